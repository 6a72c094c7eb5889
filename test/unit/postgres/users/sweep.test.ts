import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sweepDecision, type SweepPolicy } from '../../../../src/postgres/users/sweep';
import type { IndexedUser } from '../../../../src/postgres/users/user-records';

const policy: SweepPolicy = { now: 10_000, minAge: 120, grace: 120, tainted: false, immediate: false };
const issued = (leaseEnd: number): IndexedUser => ({ role: 'app', state: 'issued', createdAt: 0, leaseEnd });
const issuing = (createdAt: number): IndexedUser => ({ role: 'app', state: 'issuing', createdAt, leaseEnd: createdAt + 3600 });

describe('sweep decisions', () => {
  const table: Array<[string, IndexedUser, Partial<SweepPolicy>, boolean, string]> = [
    ['issued, lease live', issued(20_000), {}, false, 'keep'],
    ['issued, lease ended, within grace', issued(10_000 - 120), {}, false, 'keep'],
    ['issued, lease end + grace just passed', issued(10_000 - 121), {}, false, 'drop'],
    ['issued, fraction of a second past', issued(10_000 - 120), { now: 10_000.5 }, false, 'drop'],
    ['issuing, younger than min age', issuing(10_000 - 120), {}, false, 'keep'],
    ['issuing, older than min age', issuing(10_000 - 121), {}, false, 'rollback'],
    ['issuing, older, but running in this process', issuing(0), {}, true, 'keep'],
    ['issuing, young, immediate', issuing(10_000), { immediate: true }, false, 'rollback'],
    ['issued, live, immediate', issued(20_000), { immediate: true }, false, 'keep'],
    ['issued, live, tainted', issued(20_000), { tainted: true }, false, 'drop'],
    ['issuing, young and running, tainted', issuing(10_000), { tainted: true }, true, 'rollback'],
  ];
  for (const [what, user, over, here, expected] of table) {
    it(`${what}: ${expected}`, () => assert.equal(sweepDecision(user, { ...policy, ...over }, here), expected));
  }
});
