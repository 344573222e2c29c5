/** SPEC 7.1's string rules as pure functions (src/shared/text.ts), by example and by property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanReportText, escapeUnsafe, findUnsafeText, terminalJson, unsafeCharacter } from '../../src/shared/text.ts';

describe('unsafeCharacter', () => {
  it.each([
    ['tab', 'a\tb', 'U+0009'],
    ['ESC', '\u001b[0m', 'U+001B'],
    ['DEL', 'x\u007f', 'U+007F'],
    ['C1 NEL', 'x\u0085', 'U+0085'],
    ['RLO', 'abc\u202e', 'U+202E'],
    ['LRI', '\u2066', 'U+2066'],
    ['zero-width space', 'lap\u200btop', 'U+200B'],
    ['word joiner', '\u2060', 'U+2060'],
    ['BOM', '\ufeff', 'U+FEFF'],
    ['soft hyphen', 'a\u00adb', 'U+00AD'],
    ['tag character (astral Cf)', 'a\u{E0041}', 'U+E0041'],
    ['line separator', '\u2028', 'U+2028'],
    ['paragraph separator', '\u2029', 'U+2029'],
    ['lone high surrogate', 'a\ud800', 'U+D800'],
    ['lone low surrogate', '\udc00b', 'U+DC00'],
  ])('%s is unsafe', (_name, text, codePoint) => {
    expect(unsafeCharacter(text)?.codePoint).toBe(codePoint);
  });

  it.each([['plain', 'laptop-2.example.com'], ['accents', 'Müller’s Mac'], ['CJK', '東京のPC'], ['emoji pair', 'dev 😀'], ['empty', '']])('%s is safe', (_name, text) => {
    expect(unsafeCharacter(text)).toBeNull();
  });
});

describe('findUnsafeText', () => {
  it('names the path of the first unsafe string or key, however deep', () => {
    expect(findUnsafeText({ evidence: { firewall_enabled: { observations: ['ok', 'bad\n'] } } })?.path).toBe('evidence.firewall_enabled.observations.1');
    expect(findUnsafeText({ evidence: { 'k\u200b': 1 } })?.path).toBe('evidence.k\u200b');
    expect(findUnsafeText({ a: 1, b: [true, null, 'fine'] })).toBeNull();
  });
});

describe('escaping', () => {
  it('escapeUnsafe leaves nothing unsafe and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeUnsafe(text);
        expect(unsafeCharacter(escaped)).toBeNull();
        expect(escapeUnsafe(escaped)).toBe(escaped);
      }),
      { numRuns: 2000 },
    );
  });

  it('cleanReportText leaves nothing unsafe and turns line breaks into spaces', () => {
    expect(cleanReportText('line one\r\nline two\ttab')).toBe('line one line two tab');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(unsafeCharacter(cleanReportText(text))).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('terminalJson parses back to the same value and shows nothing unsafe', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        const input = { value, text: text.isWellFormed() ? text : text.toWellFormed() };
        const json = terminalJson(input, 2);
        expect(unsafeCharacter(json.replace(/\n/g, ' '))).toBeNull();
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(input)));
      }),
      { numRuns: 1000 },
    );
  });
});
