import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WAITS, SETTINGS_ENV, settingsFromEnv } from '../../lambdas/core/settings';
import {
  certificateRegionsOf,
  ConfigError,
  DEFAULT_CONFIG_FILE,
  EXAMPLE_CONFIG_FILE,
  loadConfig,
  parseConfig,
  resolveConfig,
  settingsFor,
} from '../../lib/config';
import { REPO_ROOT } from '../support/synth';
import configSchema from '../../schema/certflow-config.schema.json';
import definitions from '../../schema/definitions.schema.json';

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
      api: { enabled: true, cloudWatchRole: true, throttling: { rateLimit: 10, burstLimit: 20 } },
      operators: [],
      renewal: { schedule: 'rate(1 day)', atRiskDays: 30, sweepConcurrency: 5 },
    });
  });

  it('accepts the shipped example, with the API and every kind of notification', () => {
    const config = loadConfig(join(REPO_ROOT, EXAMPLE_CONFIG_FILE));
    expect(config.dnsAccount).toMatchObject({ roleName: 'certflow-dns', workflowRolePrefix: 'Certflow-', allowAliasRecords: false });
    expect(config.dnsRoles[0]?.externalId).toBe(config.dnsAccount?.externalId);
    expect(config.api).toMatchObject({ enabled: true, cloudWatchRole: true });
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
      const throttling = { rateLimit: 10, burstLimit: 20 };
      expect(parseConfig({ api: {} }).api).toEqual({ enabled: true, cloudWatchRole: true, throttling });
      expect(parseConfig({ api: { enabled: false } }).api).toEqual({ enabled: false, cloudWatchRole: true, throttling });
      expect(parseConfig({ api: { cloudWatchRole: false } }).api).toEqual({ enabled: true, cloudWatchRole: false, throttling });
    });

    it('rejects non-booleans and unknown fields by path', () => {
      expect(problemsOf({ api: { enabled: 'yes', cloudWatchRole: 1, apiKey: true } })).toEqual([
        expect.stringMatching(/^api\.apiKey: unknown field/),
        'api.enabled: expected a boolean (true or false), got a string',
        'api.cloudWatchRole: expected a boolean (true or false), got a number',
      ]);
      expect(problemsOf({ api: true })).toEqual(['api: expected an object, got a boolean']);
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
    expect(problemsOf({ waits: { issuance: { maxSeconds: 1.5 } } })).toEqual([
      'waits.issuance.maxSeconds: expected a whole number, got a number with a fraction',
    ]);
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

  describe('sections other features read (tenants, operators, API access, canary, renewal, event regions)', () => {
    const TENANT = { name: 'team-a', principals: ['arn:aws:iam::111111111111:role/team-a-*'], domainSuffixes: ['Team-A.Example.com.'] };

    it('leaves them out or fills their defaults when absent', () => {
      const config = parseConfig({ allowedDomainSuffixes: ['example.com'], dnsAccount: DNS_ACCOUNT });
      expect(config.tenants).toBeUndefined();
      expect(config.canary).toBeUndefined();
      expect(config.certificateRegions).toBeUndefined();
      expect(config.api.allowedAccounts).toBeUndefined();
      expect(config.operators).toEqual([]);
      expect(config.api.throttling).toEqual({ rateLimit: 10, burstLimit: 20 });
      expect(config.renewal).toEqual({ schedule: 'rate(1 day)', atRiskDays: 30, sweepConcurrency: 5 });
      expect(config.dnsAccount?.allowedDomainSuffixes).toEqual(['example.com']);
    });

    it('accepts every section, normalizing domain names and filling partial objects', () => {
      const config = parseConfig({
        allowedDomainSuffixes: ['example.com'],
        tenants: [TENANT],
        operators: ['arn:aws:sts::111111111111:assumed-role/Operators/*'],
        api: { allowedAccounts: ['111111111111', '222222222222'], throttling: { rateLimit: 2.5 } },
        canary: { domainName: 'Canary.Example.com.' },
        renewal: { atRiskDays: 45 },
        certificateRegions: ['us-east-1', 'eu-west-1'],
        dnsAccount: { ...DNS_ACCOUNT, allowedDomainSuffixes: ['dns.example.com'] },
      });
      expect(config.tenants).toEqual([{ ...TENANT, domainSuffixes: ['team-a.example.com'] }]);
      expect(config.operators).toEqual(['arn:aws:sts::111111111111:assumed-role/Operators/*']);
      expect(config.api).toMatchObject({ allowedAccounts: ['111111111111', '222222222222'], throttling: { rateLimit: 2.5, burstLimit: 20 } });
      expect(config.canary).toEqual({ domainName: 'canary.example.com', schedule: 'rate(1 day)', originDomainName: null });
      expect(config.renewal).toEqual({ schedule: 'rate(1 day)', atRiskDays: 45, sweepConcurrency: 5 });
      expect(config.certificateRegions).toEqual(['us-east-1', 'eu-west-1']);
      expect(config.dnsAccount?.allowedDomainSuffixes).toEqual(['dns.example.com']);
      expect(parseConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
    });

    it('names the field and the rule of each bad value', () => {
      expect(
        problemsOf({
          api: { allowedAccounts: ['1234'], throttling: { burstLimit: 1.5, rateLimit: 0 } },
          tenants: [
            { name: 'team a', principals: ['team-a'], domainSuffixes: [] },
            { name: 'b', domainSuffixes: ['*.example.com'] },
          ],
          operators: ['arn:aws:iam::111111111111:role/*', 'root'],
          canary: { domainName: 'canary.example.com', schedule: 'daily', originDomainName: 42 },
          renewal: { atRiskDays: 0, sweepConcurrency: 'many' },
          certificateRegions: ['eu-west-1', 'eu-west-1', 'europe'],
        }),
      ).toEqual([
        'api.allowedAccounts[0]: "1234" is not a 12-digit AWS account id',
        'api.throttling.rateLimit: must be more than 0 and at most 10000, got 0',
        'api.throttling.burstLimit: expected a whole number, got a number with a fraction',
        expect.stringMatching(/^tenants\[0\]\.name: "team a" is not a tenant name/),
        expect.stringMatching(/^tenants\[0\]\.principals\[0\]: "team-a" is not a principal ARN pattern/),
        'tenants[0].domainSuffixes: must list at least 1',
        'tenants[1].principals: is required',
        expect.stringMatching(/^tenants\[1\]\.domainSuffixes\[0\]: "\*\.example\.com" is not a domain suffix: .*no wildcard/),
        expect.stringMatching(/^operators\[1\]: "root" is not a principal ARN pattern/),
        expect.stringMatching(/^canary\.schedule: "daily" is not an EventBridge schedule expression/),
        'canary.originDomainName: must be null or a host name such as origin.example.com',
        'renewal.atRiskDays: must be between 1 and 395, got 0',
        'renewal.sweepConcurrency: expected a whole number, got a string',
        'certificateRegions[2]: "europe" is not an AWS region name: expected one like us-east-1 or eu-west-2',
        'certificateRegions: lists "eu-west-1" twice',
      ]);
    });

    it('refuses a canary outside the allowed suffixes and a tenant listed twice', () => {
      expect(problemsOf({ allowedDomainSuffixes: ['example.com'], canary: { domainName: 'canary.example.org' } })).toEqual([
        expect.stringMatching(/^canary\.domainName: "canary\.example\.org" is not inside allowedDomainSuffixes \(example\.com\)/),
      ]);
      expect(problemsOf({ canary: { domainName: 'canary.example.org' } })).toEqual([]);
      const tenant = { name: 'a', principals: ['arn:aws:iam::111111111111:role/a'], domainSuffixes: ['a.example.com'] };
      expect(problemsOf({ tenants: [tenant, tenant] })).toEqual(['tenants[1].name: tenant "a" is listed twice']);
    });

    it('accepts EventBridge rate and cron expressions and refuses rate(1 days)', () => {
      for (const schedule of ['rate(1 day)', 'rate(12 hours)', 'rate(30 minutes)', 'cron(0 4 * * ? *)']) {
        expect(problemsOf({ renewal: { schedule } })).toEqual([]);
      }
      for (const schedule of ['rate(1 days)', 'rate(2 day)', 'rate(0 days)', 'cron(0 4 * * ?)', 'every day']) {
        expect(problemsOf({ renewal: { schedule } })).toEqual([expect.stringMatching(/^renewal\.schedule: .* is not an EventBridge schedule expression/)]);
      }
    });

    it('refuses, when loading, a schedule the missed-run alarm cannot watch (a monthly or nth-weekday cron), naming the field', () => {
      expect(problemsOf({ renewal: { schedule: 'cron(0 4 1 * ? *)' } })).toEqual([expect.stringMatching(/^renewal\.schedule "cron\(0 4 1 \* \? \*\)"/)]);
      expect(problemsOf({ canary: { domainName: 'canary.example.org', schedule: 'cron(0 4 ? * MON#1 *)' } })).toEqual([
        expect.stringMatching(/^canary\.schedule "cron\(0 4 \? \* MON#1 \*\)"/),
      ]);
    });

    it('defaults the forwarded ACM event regions to us-east-1 and the deployment region', () => {
      expect(certificateRegionsOf(parseConfig({}), 'eu-west-1')).toEqual(['us-east-1', 'eu-west-1']);
      expect(certificateRegionsOf(parseConfig({}), 'us-east-1')).toEqual(['us-east-1']);
      expect(certificateRegionsOf(parseConfig({ certificateRegions: ['ap-south-1'] }), 'eu-west-1')).toEqual(['ap-south-1']);
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

describe('schema/certflow-config.schema.json', () => {
  type Node = { readonly [key: string]: unknown };
  /** Every declared property of the schema, with its dotted path. */
  function declared(node: Node, path: string, out: [string, Node][] = []): [string, Node][] {
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
      out.push([`${path}${key}`, child]);
      declared(child, `${path}${key}.`, out);
      if (typeof child.items === 'object') declared(child.items as Node, `${path}${key}[].`, out);
    }
    return out;
  }

  it('documents every field it declares', () => {
    const fields = declared(configSchema as Node, '');
    expect(fields.length).toBeGreaterThan(40);
    for (const [path, node] of fields) {
      const hasDescription = typeof node.description === 'string' || typeof node.$ref === 'string';
      expect({ path, hasDescription }).toEqual({ path, hasDescription: true });
    }
  });

  it('validates the shipped example by itself, as an editor or another tool would read it', () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(definitions);
    const example = JSON.parse(readFileSync(join(REPO_ROOT, EXAMPLE_CONFIG_FILE), 'utf8')) as unknown;
    expect(ajv.validate(configSchema, example)).toBe(true);
    expect(ajv.validate(configSchema, { stackName: 'Certflow', dnsRole: [] })).toBe(false);
  });

  it('documents the defaults the loader applies', () => {
    const loaded = parseConfig({ dnsAccount: DNS_ACCOUNT, canary: { domainName: 'canary.example.com' } }) as unknown as Record<string, unknown>;
    let compared = 0;
    for (const [path, node] of declared(configSchema as Node, '')) {
      if (!('default' in node) || path.includes('[]')) continue;
      const value = path.split('.').reduce<unknown>((object, key) => (object as Record<string, unknown> | undefined)?.[key], loaded);
      expect({ path, value }).toEqual({ path, value: node.default });
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(15);
  });

  it('shares one region rule and one suffix rule with the certificate request', () => {
    for (const region of ['us-east-1', 'us-gov-west-1', 'us-isob-east-1', 'ap-southeast-10']) {
      expect(problemsOf({ defaultRegion: region, certificateRegions: [region] })).toEqual([]);
    }
    for (const region of ['mars-north-1', 'US-EAST-1', 'us-east', 'us-east-1a', 'eu-west-100']) {
      expect(problemsOf({ defaultRegion: region })).toEqual([expect.stringMatching(/^defaultRegion: .* is not an AWS region name/)]);
    }
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
