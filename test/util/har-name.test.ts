import { describe, expect, it } from 'vitest';
import { exportHarName, flowHarName } from '../../shared/har-name';

describe('HAR file names', () => {
  it('names one flow by id, method and host', () => {
    expect(flowHarName({ id: 42, method: 'post', host: 'API.Xiaomi.com' })).toBe('flow-42-POST-api.xiaomi.com.har');
  });

  it('lets nothing from captured traffic through but letters, digits, dots and hyphens', () => {
    const name = flowHarName({ id: 7, method: 'GE"T\r\n', host: '../../etc/passwd";\u0000x=$(rm -rf ~)' });
    expect(name).toMatch(/^flow-7-[A-Z]*-[a-z0-9._-]*\.har$/);
    expect(name).not.toContain('..');
    expect(name).not.toMatch(/[/\\"'\s$;`\u0000]/);
  });

  it('drops an empty method or host, and caps a long host', () => {
    expect(flowHarName({ id: 3, method: '', host: '...' })).toBe('flow-3.har');
    expect(flowHarName({ id: 3, method: 'GET', host: 'a'.repeat(300) }).length).toBeLessThanOrEqual('flow-3-GET-.har'.length + 64);
  });

  it('names a many-flow export by its time', () => {
    expect(exportHarName(new Date('2026-12-02T13:04:05Z'))).toBe('leakscope-2026-12-02T130405.har');
  });
});
