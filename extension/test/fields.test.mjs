import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsFromExtraction } from '../lib/fields.js';

test('the extraction profile maps straight onto the form', () => {
  const f = fieldsFromExtraction({ title: 'Ada | Site', status: 'parsed', profile: {
    name: 'Ada', headline: 'Math', company: 'AE', title: 'Analyst', location: 'London',
    avatar_url: 'https://x/a.png', bio: 'not a form field' } });
  assert.deepEqual(f, { name: 'Ada', headline: 'Math', company: 'AE', title: 'Analyst', location: 'London', avatar_url: 'https://x/a.png' });
});

test('the page title is never mistaken for a job title', () => {
  const f = fieldsFromExtraction({ title: 'Some page', status: 'partial', profile: { name: 'Ada', title: null } });
  assert.equal(f.title, '');
  assert.equal(f.name, 'Ada');
});

test('an unparsed page offers its title as the name', () => {
  assert.equal(fieldsFromExtraction({ title: 'Just a page', status: 'unparsed', profile: null }).name, 'Just a page');
});

test('non-http photo URLs are dropped; empty extraction gives empty fields', () => {
  assert.equal(fieldsFromExtraction({ profile: { avatar_url: 'javascript:alert(1)' } }).avatar_url, '');
  assert.deepEqual(Object.values(fieldsFromExtraction(null)), ['', '', '', '', '', '']);
});
