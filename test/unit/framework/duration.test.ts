import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseGoDurationSeconds } from '../../../src/framework';

const PARSED: ReadonlyArray<[string, number | undefined]> = [
  ['1h30m', 5400],
  ['90s', 90],
  ['1.5h', 5400],
  ['2.3h', 8280],
  ['500ms', 0],
  ['1500ms', 1],
  ['1d', 86400],
  ['1d12h', 129600],
  ['+10s', 10],
  ['-5s', -5],
  ['0', 0],
  ['.5m', 30],
  ['1us', 0],
  ['1µs', 0],
  ['1μs', 0],
  ['2000000µs', 2],
  ['3000000μs', 3],
  ['300', undefined],
  ['abc', undefined],
  ['', undefined],
  ['h', undefined],
  ['1h-5m', undefined],
  ['1 h', undefined],
  ['1y', undefined],
  ['99999999999h', undefined],
];

for (const [text, seconds] of PARSED) {
  test(`parseGoDurationSeconds(${JSON.stringify(text)}) = ${String(seconds)}`, () => {
    assert.equal(parseGoDurationSeconds(text), seconds);
  });
}

const FORMATTED: ReadonlyArray<[number, string]> = [
  [0, '0s'],
  [5, '5s'],
  [90, '1m30s'],
  [3600, '1h'],
  [5400, '1h30m'],
  [3605, '1h5s'],
  [2764800, '768h'],
  [0.5, '500ms'],
  [-60, '-1m'],
];

for (const [seconds, text] of FORMATTED) {
  test(`formatDuration(${seconds}) = ${text}`, () => {
    assert.equal(formatDuration(seconds), text);
  });
}
