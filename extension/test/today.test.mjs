import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catchUpText, upcomingText } from '../lib/today.js';

const day = (iso) => `<${iso}>`;

test('catch-up: due since when, next date, snoozed, or no cadence', () => {
  assert.deepEqual(catchUpText({ due: true, cadence: 30, due_on: '2025-03-03' }, day),
    { text: 'Due since <2025-03-03> (every 30 days)', state: 'due' });
  assert.deepEqual(catchUpText({ due: false, cadence: 90, due_on: '2025-07-01' }, day),
    { text: 'Next on <2025-07-01> (every 90 days)', state: 'ok' });
  assert.deepEqual(catchUpText({ due: false, cadence: 30, due_on: '2025-03-03', snoozed_until: '2025-04-01' }, day),
    { text: 'Snoozed until <2025-04-01>', state: 'snoozed' });
  assert.equal(catchUpText({ due: false, cadence: null }, day).state, 'none');
  assert.equal(catchUpText(undefined, day).state, 'none');
});

test('upcoming dates read as a line, soonest first as the companion sends them', () => {
  assert.equal(upcomingText([{ text: 'Birthday (turns 36)', in_days: 0 }, { label: 'Name day', in_days: 1 },
    { text: 'Visa renewal', in_days: 9 }]), 'Birthday (turns 36), today · Name day, tomorrow · Visa renewal, in 9 days');
  assert.equal(upcomingText([]), '');
  assert.equal(upcomingText(undefined), '');
});
