import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WAITS, SETTINGS_ENV, settingsFromEnv } from '../../lambdas/core/settings';
import { ConfigError, DEFAULT_CONFIG_FILE, EXAMPLE_CONFIG_FILE, loadConfig, parseConfig, resolveConfig, settingsFor } from '../../lib/config';
import { REPO_ROOT } from '../support/synth';

const DNS_ACCOUNT = {
  workflowAccountId: '111111111111',
  externalId: 'ext-123456',
  hostedZoneIds: ['Z0123456789ABC'],
};

/** The problems parseConfig reports for a configuration, or [] when it is accepted. */
function problemsOf(json: unknown): string[] {
  try {
    parseConfig(json);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('parseConfig', () => {
  it('applies every default to an empty configuration', () => {
    expect(parseConfig({})).toEqual({
      stackName: 'Certflow',
      dnsRoles: [],
      allowedDomainSuffixes: [],
      maxNamesPerCertificate: 10,
      pinnedZones: {},
      waits: {},
      eventBusName: 'certflow',
      api: { enabled: true, cloudWatchRole: true },
    });
  });

  it('accepts the shipped example, with the API and every kind of notification', () => {
    const config = loadConfig(join(REPO_ROOT, EXAMPLE_CONFIG_FILE));
    expect(config.dnsAccount).toMatchObject({ roleName: 'certflow-dns', workflowRolePrefix: 'Certflow-', allowAliasRecords: false });
    expect(config.dnsRoles[0]?.externalId).toBe(config.dnsAccount?.externalId);
    expect(config.api).toEqual({ enabled: true, cloudWatchRole: true });
    expect(config.notifications?.emailAddresses?.length).toBeGreaterThan(0);
    expect(config.notifications?.webhook?.secretArn).toMatch(/^arn:aws:secretsmanager:/);
  });

  it('reads its own output unchanged (the CLI re-parses a parsed configuration)', () => {
    const config = parseConfig({
      api: { enabled: false },
      notifications: { emailAddresses: ['ops@example.com'], webhook: { ssmParameterName: '/certflow/webhook' } },
      dnsAccount: DNS_ACCOUNT,
    });
    expect(parseConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  describe('api', () => {
    it('defaults each field to true and accepts false', () => {
      expect(parseConfig({ api: {} }).api).toEqual({ enabled: true, cloudWatchRole: true });
      expect(parseConfig({ api: { enabled: false } }).api).toEqual({ enabled: false, cloudWatchRole: true });
      expect(parseConfig({ api: { cloudWatchRole: false } }).api).toEqual({ enabled: true, cloudWatchRole: false });
    });

    it('rejects non-booleans and unknown fields by path', () => {
      expect(problemsOf({ api: { enabled: 'yes', cloudWatchRole: 1, apiKey: true } })).toEqual([
        expect.stringMatching(/^api\.apiKey: unknown field/),
        expect.stringMatching(/^api\.enabled: must be true or false/),
        expect.stringMatching(/^api\.cloudWatchRole: must be true or false/),
      ]);
      expect(problemsOf({ api: true })).toEqual([expect.stringMatching(/^api: must be an object/)]);
    });
  });

  describe('notifications', () => {
    const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:certflow/slack-AbC123';

    it('keeps a topic-only configuration (no emails, no webhook)', () => {
      expect(parseConfig({ notifications: {} }).notifications).toEqual({});
      expect(parseConfig({ notifications: { emailAddresses: [] } }).notifications).toEqual({ emailAddresses: [] });
    });

    it('accepts a webhook kept in a secret or in an SSM parameter', () => {
      expect(parseConfig({ notifications: { webhook: { secretArn: SECRET_ARN } } }).notifications).toEqual({ webhook: { secretArn: SECRET_ARN } });
      for (const name of ['/certflow/slack-webhook', 'certflow-webhook', '/a.b/c_d-e']) {
        expect(parseConfig({ notifications: { webhook: { ssmParameterName: name } } }).notifications?.webhook).toEqual({ ssmParameterName: name });
      }
    });

    it('requires exactly one of secretArn and ssmParameterName', () => {
      const exactlyOne = [expect.stringMatching(/^notifications\.webhook: set exactly one of secretArn .* and ssmParameterName/)];
      expect(problemsOf({ notifications: { webhook: {} } })).toEqual(exactlyOne);
      expect(problemsOf({ notifications: { webhook: { secretArn: SECRET_ARN, ssmParameterName: '/certflow/webhook' } } })).toEqual(exactlyOne);
    });

    it("wants the secret's complete ARN, the one IAM can be scoped to", () => {
      for (const secretArn of [
        'arn:aws:secretsmanager:eu-west-1:111111111111:secret:certflow/slack', // partial: no 6-character suffix
        'certflow/slack-AbC123',
        'arn:aws:ssm:eu-west-1:111111111111:parameter/certflow/slack-AbC123',
      ]) {
        expect(problemsOf({ notifications: { webhook: { secretArn } } })).toEqual([
          expect.stringMatching(/^notifications\.webhook\.secretArn: .*complete ARN/),
        ]);
      }
    });

    it('refuses SSM parameter names SSM would refuse, or an ARN', () => {
      for (const ssmParameterName of [
        'certflow webhook',
        'certflow/webhook',
        '/aws/certflow',
        'ssm-webhook',
        'arn:aws:ssm:eu-west-1:111111111111:parameter/x',
        '/a//b',
      ]) {
        expect(problemsOf({ notifications: { webhook: { ssmParameterName } } })).toEqual([
          expect.stringMatching(/^notifications\.webhook\.ssmParameterName: /),
        ]);
      }
    });

    it('refuses an email address listed twice, whatever its case', () => {
      expect(problemsOf({ notifications: { emailAddresses: ['ops@example.com', 'OPS@example.com'] } })).toEqual([
        expect.stringMatching(/^notifications\.emailAddresses\[1\]: OPS@example\.com is listed twice/),
      ]);
    });

    it('rejects unknown fields by path', () => {
      expect(problemsOf({ notifications: { slack: {}, webhook: { url: 'https://hooks.slack.com/x', secretArn: SECRET_ARN } } })).toEqual([
        expect.stringMatching(/^notifications\.slack: unknown field/),
        expect.stringMatching(/^notifications\.webhook\.url: unknown field/),
      ]);
    });
  });

  it('normalizes domain suffixes, pinned zone names and zone ids', () => {
    const config = parseConfig({
      allowedDomainSuffixes: [' Example.COM. ', 'example.com', 'xn--bcher-kva.example'],
      pinnedZones: { 'Dev.Example.com.': '/hostedzone/Z111' },
      dnsAccount: { ...DNS_ACCOUNT, hostedZoneIds: ['/hostedzone/Z0123456789ABC', 'Z0123456789ABC'] },
    });
    expect(config.allowedDomainSuffixes).toEqual(['example.com', 'xn--bcher-kva.example']);
    expect(config.pinnedZones).toEqual({ 'dev.example.com': 'Z111' });
    expect(config.dnsAccount?.hostedZoneIds).toEqual(['Z0123456789ABC']);
  });

  it('ignores $-prefixed note keys but rejects unknown fields by path', () => {
    expect(problemsOf({ $comment: 'notes', waits: { $comment: 'more notes' } })).toEqual([]);
    expect(problemsOf({ dnsRole: [] })).toEqual([expect.stringMatching(/^\(root\)\.dnsRole: unknown field/)]);
    expect(problemsOf({ dnsAccount: { ...DNS_ACCOUNT, zoneIds: [] } })).toEqual([expect.stringMatching(/^dnsAccount\.zoneIds: unknown field/)]);
  });

  it('names each bad field and reports all of them at once', () => {
    const problems = problemsOf({
      stackName: '1certflow',
      defaultRegion: 'Europe',
      dnsRoles: [{ roleArn: 'arn:aws:iam::12345:role/x' }, { roleArn: 'arn:aws:iam::222222222222:role/dns', externalId: 'x' }],
      allowedDomainSuffixes: ['*.example.com', 'bücher.example', 'a..b'],
      maxNamesPerCertificate: 0,
      pinnedZones: { 'example.com': 'not-a-zone' },
      eventBusName: 'default',
      notifications: { emailAddresses: ['ops-at-example.com'] },
    });
    const fields = problems.map((p) => p.split(':')[0]);
    expect(fields).toEqual([
      'stackName',
      'defaultRegion',
      'dnsRoles[0].roleArn',
      'dnsRoles[1].externalId',
      'allowedDomainSuffixes[0]',
      'allowedDomainSuffixes[1]',
      'allowedDomainSuffixes[2]',
      'maxNamesPerCertificate',
      'pinnedZones["example.com"]',
      'eventBusName',
      'notifications.emailAddresses[0]',
    ]);
    expect(problems.join('\n')).toContain('punycode');
  });

  it('rejects a DNS role listed twice', () => {
    const role = { roleArn: 'arn:aws:iam::222222222222:role/certflow-dns' };
    expect(problemsOf({ dnsRoles: [role, role] })).toEqual([expect.stringMatching(/^dnsRoles\[1\]\.roleArn: .* listed twice/)]);
  });

  it('validates waits field by field and against each other', () => {
    expect(problemsOf({ waits: { issuance: { maxSeconds: 1.5 } } })).toEqual([expect.stringMatching(/^waits\.issuance\.maxSeconds: must be a whole number/)]);
    expect(problemsOf({ waits: { dnsChanges: { initialSeconds: 120 } } })).toEqual([
      expect.stringMatching(/^waits\.dnsChanges: initialSeconds \(120\) exceeds maxSeconds \(60\)/),
    ]);
    expect(problemsOf({ waits: { distribution: { deadlineSeconds: 60 } } })).toEqual([
      expect.stringMatching(/^waits\.distribution: maxSeconds \(120\) exceeds deadlineSeconds \(60\)/),
    ]);
    expect(problemsOf({ waits: { polling: {} } })).toEqual([expect.stringMatching(/^waits\.polling: unknown field/)]);
  });

  describe('dnsAccount', () => {
    it('refuses a DNS account without an external id', () => {
      expect(problemsOf({ dnsAccount: { ...DNS_ACCOUNT, externalId: undefined } })).toEqual([expect.stringMatching(/^dnsAccount\.externalId: is required/)]);
      expect(problemsOf({ dnsAccount: { ...DNS_ACCOUNT, externalId: '' } })).toEqual([expect.stringMatching(/^dnsAccount\.externalId: is required/)]);
    });

    it('requires at least one hosted zone and a 12-digit workflow account', () => {
      expect(problemsOf({ dnsAccount: { ...DNS_ACCOUNT, hostedZoneIds: [], workflowAccountId: '1111' } })).toEqual([
        expect.stringMatching(/^dnsAccount\.workflowAccountId: /),
        expect.stringMatching(/^dnsAccount\.hostedZoneIds: must list at least one/),
      ]);
    });

    it('derives the workflow role prefix from the stack name', () => {
      expect(parseConfig({ stackName: 'CertflowProd', dnsAccount: DNS_ACCOUNT }).dnsAccount?.workflowRolePrefix).toBe('CertflowProd-');
      expect(parseConfig({ dnsAccount: { ...DNS_ACCOUNT, workflowRolePrefix: 'cf-' } }).dnsAccount?.workflowRolePrefix).toBe('cf-');
    });

    it('refuses a stack name that CloudFormation would shorten in role names when the prefix depends on it', () => {
      const stackName = 'CertflowProductionEuWest1X'; // 26 characters
      expect(problemsOf({ stackName, dnsAccount: DNS_ACCOUNT })).toEqual([expect.stringMatching(/^stackName: .* longer than 25 characters/)]);
      expect(problemsOf({ stackName, dnsAccount: { ...DNS_ACCOUNT, workflowRolePrefix: 'CertflowProd' } })).toEqual([]);
      expect(problemsOf({ stackName })).toEqual([]);
    });
  });

  it('refuses settings that would not fit in the Lambda environment', () => {
    const dnsRoles = Array.from({ length: 40 }, (_, i) => ({
      roleArn: `arn:aws:iam::${String(200000000000 + i)}:role/certflow-dns`,
      externalId: `external-id-${i}`,
    }));
    expect(problemsOf({ dnsRoles })).toEqual([expect.stringMatching(/4 KB environment/)]);
  });
});

describe('settingsFor', () => {
  it('produces the Settings the lambdas read back from CERTFLOW_SETTINGS', () => {
    const config = parseConfig({
      dnsRoles: [{ roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'ext-123456' }],
      allowedDomainSuffixes: ['example.com'],
      maxNamesPerCertificate: 25,
      pinnedZones: { 'example.com': 'Z111' },
      waits: { issuance: { maxSeconds: 120 } },
    });
    const settings = settingsFor(config, { tableName: 'requests', defaultRegion: 'eu-west-1' });
    expect(settings).toEqual({
      defaultRegion: 'eu-west-1',
      dnsRoles: [{ roleArn: 'arn:aws:iam::222222222222:role/certflow-dns', externalId: 'ext-123456' }],
      allowedDomainSuffixes: ['example.com'],
      maxNamesPerCertificate: 25,
      pinnedZones: { 'example.com': 'Z111' },
      waits: { ...DEFAULT_WAITS, issuance: { ...DEFAULT_WAITS.issuance, maxSeconds: 120 } },
      tableName: 'requests',
    });
    expect(settingsFromEnv({ [SETTINGS_ENV]: JSON.stringify(settings) })).toEqual(settings);
  });

  it('prefers the configured default region over the deployment region', () => {
    const config = parseConfig({ defaultRegion: 'ca-central-1' });
    expect(settingsFor(config, { tableName: 't', defaultRegion: 'us-east-1' }).defaultRegion).toBe('ca-central-1');
  });
});

describe('resolveConfig', () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), 'certflow-config-'));
  const write = (path: string, json: unknown): void => writeFileSync(path, JSON.stringify(json));

  it('falls back to the example when certflow.config.json is absent', () => {
    const cwd = dir();
    write(join(cwd, EXAMPLE_CONFIG_FILE), { stackName: 'FromExample' });
    expect(resolveConfig({ cwd, env: {} })).toMatchObject({ config: { stackName: 'FromExample' }, isExample: true });
    write(join(cwd, DEFAULT_CONFIG_FILE), { stackName: 'FromDefault' });
    expect(resolveConfig({ cwd, env: {} })).toMatchObject({ config: { stackName: 'FromDefault' }, isExample: false });
  });

  it('prefers a named file, then inline context, then the default file', () => {
    const cwd = dir();
    write(join(cwd, DEFAULT_CONFIG_FILE), { stackName: 'FromDefault' });
    write(join(cwd, 'prod.json'), { stackName: 'FromEnv' });
    write(join(cwd, 'ctx.json'), { stackName: 'FromContextFile' });
    const inline = { stackName: 'FromContext' };
    expect(resolveConfig({ cwd, env: {}, contextConfig: inline }).config.stackName).toBe('FromContext');
    expect(resolveConfig({ cwd, env: { CERTFLOW_CONFIG: 'prod.json' }, contextConfig: inline }).config.stackName).toBe('FromEnv');
    expect(resolveConfig({ cwd, env: { CERTFLOW_CONFIG: 'prod.json' }, contextConfigFile: 'ctx.json' }).config.stackName).toBe('FromContextFile');
  });

  it('fails with the file name when a named file is missing or not JSON', () => {
    const cwd = dir();
    expect(() => resolveConfig({ cwd, env: { CERTFLOW_CONFIG: 'missing.json' } })).toThrow(/missing\.json[\s\S]*cannot read the file/);
    writeFileSync(join(cwd, 'broken.json'), '{ "stackName": ');
    expect(() => resolveConfig({ cwd, env: { CERTFLOW_CONFIG: 'broken.json' } })).toThrow(/broken\.json[\s\S]*not valid JSON/);
  });
});
