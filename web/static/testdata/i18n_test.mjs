// Tests of js/i18n.js under node (no DOM): language choice, placeholders,
// plurals, fallback to English, the catalogue loader. Run by
// client_test.go, which copies i18n.js here next to a package.json that
// makes it an ES module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { t, setCatalogue, pickLanguage, loadCatalogue, formatDuration, formatRelative, language } from './i18n.js';

test('the language: session choice, then the page, then English', () => {
  assert.equal(pickLanguage('de', null), 'de');
  assert.equal(pickLanguage('de-AT', ''), 'de');
  assert.equal(pickLanguage('en', 'de'), 'de');
  assert.equal(pickLanguage('fr', null), 'en');
  assert.equal(pickLanguage('', 'xx'), 'en');
});

test('placeholders, plurals and the English fallback', () => {
  setCatalogue('de', {
    'hi': 'Hallo {name}',
    'hands.one': '{count} Hand',
    'hands.other': '{count} Hände',
  }, { 'hi': 'Hello {name}', 'only.en': 'English only', 'hands.other': '{count} hands' });
  assert.equal(language(), 'de');
  assert.equal(t('hi', { name: 'Vera' }), 'Hallo Vera');
  assert.equal(t('hands', { count: 1 }), '1 Hand');
  assert.equal(t('hands', { count: 3 }), '3 Hände');
  assert.equal(t('hands', { count: 1200 }), '1.200 Hände');
  assert.equal(t('only.en'), 'English only');
  assert.equal(t('missing.key'), 'missing.key');
  assert.equal(t('hi', {}), 'Hallo {name}');
});

test('the loader fetches the language and English', async () => {
  const asked = [];
  const get = async (u) => {
    asked.push(u);
    return { ok: true, json: async () => (u.endsWith('de.json') ? { a: 'A-de' } : { a: 'A-en', b: 'B-en' }) };
  };
  await loadCatalogue('de', '/static/i18n/', get);
  assert.deepEqual(asked.sort(), ['/static/i18n/de.json', '/static/i18n/en.json']);
  assert.equal(t('a'), 'A-de');
  assert.equal(t('b'), 'B-en');
});

test('running time and relative time', () => {
  assert.equal(formatDuration(65_000), '1:05');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  setCatalogue('en', {});
  assert.equal(formatRelative(-120_000), '2 minutes ago');
  setCatalogue('de', {});
  assert.equal(formatRelative(-120_000), 'vor 2 Minuten');
});
