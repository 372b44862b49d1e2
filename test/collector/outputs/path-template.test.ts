import { describe, expect, it } from 'vitest';
import { PathTemplate } from '../../../collector/outputs/path-template.js';

const values = { service: 'api', host: 'web-1', source: 'a1b2' };
const at = Date.UTC(2026, 10, 22, 23, 40, 0, 670); // 2026-11-22T23:40:00.670Z

describe('PathTemplate', () => {
  describe('#expand', () => {
    it('expands the default template', () => {
      expect(PathTemplate.parse('{service}.log').expand(values, at)).toBe('api.log');
    });

    it('expands names and UTC date parts', () => {
      const template = PathTemplate.parse('{yyyy}/{mm}/{dd}/{service}-{host}-{source}.{hh}.log');
      expect(template.expand(values, at)).toBe('2026/11/22/api-web-1-a1b2.23.log');
      expect(template.usesDate).toBe(true);
      expect(PathTemplate.parse('{service}.log').usesDate).toBe(false);
    });

    it('pads months, days and hours', () => {
      expect(PathTemplate.parse('{yyyy}-{mm}-{dd}T{hh}.log').expand(values, Date.UTC(2027, 0, 5, 3))).toBe(
        '2027-01-05T03.log',
      );
    });

    it('refuses a name outside the protocol rule with LW_ERR_PATH_ESCAPE', () => {
      const template = PathTemplate.parse('{service}/{host}.log');
      for (const bad of ['..', '../etc', 'a/b', '', '_x', '.hidden', 'x'.repeat(65)]) {
        expect(() => template.expand({ ...values, host: bad }, at), bad).toThrow(
          expect.objectContaining({ code: 'LW_ERR_PATH_ESCAPE' }),
        );
      }
    });
  });

  describe('.parse', () => {
    it.each([
      ['/var/log/{service}.log', 'relative'],
      ['../{service}.log', "'..'"],
      ['logs/../../{service}.log', "'..'"],
      ['{service}/../../x.log', "'..'"],
      ['./{service}.log', "'..'"],
      ['.state/checkpoint.json', 'hidden'],
      ['{service}/', 'file'],
      ['', 'non-empty'],
      ['{service}.{level}', 'unknown placeholder {level}'],
      ['{service.log', 'brace'],
      ['service}.log', 'brace'],
      ['_rejected.log', 'rejected'],
      ['a\0b', 'NUL'],
    ])('refuses %j at config time (LW_ERR_BAD_OPTION)', (template, why) => {
      let error: unknown;
      try {
        PathTemplate.parse(template, 'output.path');
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'LW_ERR_BAD_OPTION' });
      expect((error as Error).message).toContain('output.path');
      expect((error as Error).message).toContain(why);
    });

    it('accepts dots inside names and nested directories', () => {
      expect(PathTemplate.parse('by-host/{host}/{service}..log').expand(values, at)).toBe(
        'by-host/web-1/api..log',
      );
    });
  });
});
