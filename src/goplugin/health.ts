// grpc.health.v1.Health: go-plugin's Ping checks service "plugin".

import * as grpc from '@grpc/grpc-js';
import { grpc as healthpb } from '../gen/health';
import { HEALTH_SERVICE_NAME } from './constants';
import type { LongLivedStreams } from './streams';

const Status = healthpb.health.v1.HealthCheckResponse.ServingStatus;

/** Serving services: "" (the whole server) and "plugin". */
const SERVING = new Set(['', HEALTH_SERVICE_NAME]);

function statusOf(service: string): number {
  return SERVING.has(service) ? Status.SERVING : Status.SERVICE_UNKNOWN;
}

/** The health service implementation. */
export function healthService(streams: LongLivedStreams): grpc.UntypedServiceImplementation {
  return {
    Check: (
      call: grpc.ServerUnaryCall<healthpb.health.v1.HealthCheckRequest, healthpb.health.v1.HealthCheckResponse>,
      callback: grpc.sendUnaryData<healthpb.health.v1.HealthCheckResponse>,
    ) => {
      callback(null, new healthpb.health.v1.HealthCheckResponse({ status: statusOf(call.request.service) }));
    },
    Watch: (call: grpc.ServerWritableStream<healthpb.health.v1.HealthCheckRequest, healthpb.health.v1.HealthCheckResponse>) => {
      // Status never changes while the process serves; send it once and hold.
      streams.track(call);
      call.write(new healthpb.health.v1.HealthCheckResponse({ status: statusOf(call.request.service) }));
    },
  };
}

export const healthDefinition = healthpb.health.v1.UnimplementedHealthService.definition;
