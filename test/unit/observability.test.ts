import { ACMClient } from '@aws-sdk/client-acm';
import { STSClient } from '@aws-sdk/client-sts';
import type { CoreDeps } from '../../lambdas/core/deps';
import { ERROR_NAMES } from '../../lambdas/core/errors';
import { createHandler as recordFailureHandler } from '../../lambdas/record-failure/handler';
import { quietObservability } from '../../lambdas/shared/observability';
import { createHandler as validateRequestHandler } from '../../lambdas/validate-request/handler';
import { METRIC_NAMES, workflowMetricsOf } from '../../lambdas/shared/workflow-metrics';
import type { WorkflowState } from '../../lambdas/core/types';
import { lambdaContext } from '../support/lambda-context';
import { InMemoryLocks, InMemoryRequestStore, makeRequest, makeSettings, makeStatus, T0 } from '../support/mocks';
import { captureOutput, type CapturedOutput } from '../support/output';

const EXECUTION = 'arn:aws:states:us-east-1:111111111111:execution:certflow-workflow:0123456789abcdef0123456789abcdef-1';
const XRAY_MIDDLEWARE = 'XRaySDKInstrumentation';

let output: CapturedOutput;
let store: InMemoryRequestStore;

beforeEach(() => {
  store = new InMemoryRequestStore();
  output = captureOutput();
});
afterEach(() => output.restore());

function deps(): CoreDeps {
  return { settings: makeSettings(), store, locks: new InMemoryLocks(), now: () => T0 };
}

/** The execution state RecordFailure receives after ACM failed the certificate. */
function failedState() {
  const request = makeRequest();
  store.seed(request);
  return {
    request,
    status: makeStatus(request, { state: 'PENDING_VALIDATION' }),
    executionArn: EXECUTION,
    error: { Error: ERROR_NAMES.certificateFailed, Cause: JSON.stringify({ errorType: ERROR_NAMES.certificateFailed, errorMessage: 'ACM: CAA_ERROR' }) },
  };
}

describe('a step in Lambda', () => {
  it('logs a CloudWatch JSON line with the Lambda context, its step, the request id and the execution', async () => {
    const context = lambdaContext('certflow-record-failure');
    await recordFailureHandler(deps)(failedState(), context);

    const line = output.lines().find((entry) => entry.message === 'step completed');
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'certflow',
      step: 'record-failure',
      requestId: makeRequest().requestId,
      execution: EXECUTION,
      state: 'FAILED',
      function_name: 'certflow-record-failure',
      function_request_id: context.awsRequestId,
    });
    expect(Date.parse(String(line?.timestamp))).not.toBeNaN();
  });

  it('emits an EMF metric in namespace certflow: a failed request, by error code', async () => {
    await recordFailureHandler(deps)(failedState(), lambdaContext());

    const emf = output.lines().find((entry) => METRIC_NAMES.failed in entry);
    expect(emf).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: 'certflow', Dimensions: [['service', 'errorCode']], Metrics: [{ Name: METRIC_NAMES.failed, Unit: 'Count' }] }],
      },
      service: 'certflow',
      errorCode: 'CertificateFailed',
      [METRIC_NAMES.failed]: 1,
    });
  });

  it('logs a failing step once, as an error with its code, and does not carry its keys into the next invocation', async () => {
    const handler = validateRequestHandler(deps);
    await expect(handler({ input: { domainName: 'a..example.com' }, executionArn: EXECUTION }, lambdaContext())).rejects.toMatchObject({
      name: ERROR_NAMES.invalidRequest,
    });
    await handler({ input: { domainName: 'ok.example.com' } }, lambdaContext());

    const [failure, ...others] = output.lines().filter((entry) => entry.level === 'ERROR');
    expect(others).toEqual([]);
    expect(failure).toMatchObject({
      message: 'step failed',
      step: 'validate-request',
      execution: EXECUTION,
      code: 'InvalidRequest',
      error: { name: ERROR_NAMES.invalidRequest },
    });
    const next = output.lines().find((entry) => entry.message === 'step completed');
    expect(next).toMatchObject({ step: 'validate-request', state: 'REQUESTED' });
    expect(next).not.toHaveProperty('execution');
    expect(output.lines().find((entry) => METRIC_NAMES.started in entry)).toMatchObject({ [METRIC_NAMES.started]: 1 });
  });

  it('writes nothing with the local runner’s quiet observability, whose stdout is the CLI’s', async () => {
    await recordFailureHandler(deps, quietObservability())(failedState(), lambdaContext());
    expect(output.lines()).toEqual([]);
  });
});

describe('X-Ray capture of AWS clients', () => {
  it('is off outside Lambda: clients are built without X-Ray, so no call looks for a segment', async () => {
    await jest.isolateModulesAsync(async () => {
      await import('../../lambdas/shared/observability');
      const { awsClient } = await import('../../lambdas/core/aws-clients');
      expect(awsClient(ACMClient, {}, 'us-east-1').middlewareStack.identify().join()).not.toContain(XRAY_MIDDLEWARE);
    });
  });

  it('is on in Lambda for every client built through awsClient, and for the STS client of DNS role credentials', async () => {
    const saved = process.env.AWS_EXECUTION_ENV;
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
    try {
      await jest.isolateModulesAsync(async () => {
        await import('../../lambdas/shared/observability');
        const clients = await import('../../lambdas/core/aws-clients');
        expect(clients.awsClient(ACMClient, {}, 'us-east-1').middlewareStack.identify().join()).toContain(XRAY_MIDDLEWARE);
        const sts = new STSClient({ region: 'eu-west-1' });
        // Applied on every refresh of the credentials: it must stay one middleware.
        sts.middlewareStack.use(clients.instrumentationPlugin('eu-west-1'));
        sts.middlewareStack.use(clients.instrumentationPlugin('eu-west-1'));
        expect(sts.middlewareStack.identify().filter((name) => name.startsWith(XRAY_MIDDLEWARE))).toHaveLength(1);
      });
    } finally {
      if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = saved;
    }
  });
});

describe('workflowMetricsOf', () => {
  const settings = makeSettings();
  const request = makeRequest();
  const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
  const state = (overrides: Partial<WorkflowState['status']>, poll?: WorkflowState['poll']): WorkflowState => ({
    request,
    status: makeStatus(request, overrides),
    ...(poll ? { poll } : {}),
  });
  const issuanceDeadline = at(settings.waits.issuance.deadlineSeconds).toISOString();
  const waiting = { kind: 'issuance', attempt: 3, deadline: issuanceDeadline, waitSeconds: 60, done: false, waitingFor: 'ACM to issue' };

  it('counts the start of a request, not the rejection of its input', () => {
    expect(workflowMetricsOf({ input: {} }, state({ state: 'REQUESTED' }), settings, T0).map((m) => m.name)).toEqual([METRIC_NAMES.started]);
    const rejected = { status: makeStatus(request, { state: 'FAILED', error: { code: 'InvalidRequest', message: 'x' } }) };
    expect(workflowMetricsOf({ input: {} }, rejected, settings, T0)).toEqual([
      { name: METRIC_NAMES.failed, unit: 'Count', value: 1, dimensions: { errorCode: 'InvalidRequest' } },
    ]);
  });

  it('counts issuance when the state becomes ISSUED, with how long the issuance wait took', () => {
    const points = workflowMetricsOf(
      state({ state: 'PENDING_VALIDATION' }, waiting),
      state({ state: 'ISSUED' }, { ...waiting, done: true }),
      settings,
      at(900),
    );
    expect(points).toEqual([
      { name: METRIC_NAMES.issued, unit: 'Count', value: 1, dimensions: {} },
      { name: METRIC_NAMES.waitDuration, unit: 'Seconds', value: 900, dimensions: { wait: 'issuance' } },
    ]);
  });

  it('counts nothing again when a later step passes the same ISSUED state and finished wait on', () => {
    const issued = state({ state: 'ISSUED' }, { ...waiting, done: true });
    expect(workflowMetricsOf(issued, issued, settings, at(2000))).toEqual([]);
  });

  it('counts a deployment once, when the state becomes DEPLOYED', () => {
    expect(workflowMetricsOf(state({ state: 'DEPLOYING' }), state({ state: 'DEPLOYED' }), settings, T0).map((m) => m.name)).toEqual([METRIC_NAMES.deployed]);
  });
});
