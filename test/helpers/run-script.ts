import { spawn } from 'node:child_process';

/** Exit status and everything a script wrote, stdout and stderr interleaved as they arrived. */
export interface ScriptResult {
  code: number | null;
  output: string;
}

/** Runs `bash script args…` to its end; rejects only when bash cannot be started. */
export function runBashScript(script: string, args: string[] = []): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
