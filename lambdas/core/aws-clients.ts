/**
 * How certflow builds AWS SDK clients: one configuration over the standard
 * SDK environment, and one hook every client passes through (X-Ray capture
 * in Lambda).
 */

/** Client settings shared by every AWS client; unset fields come from the standard SDK environment. */
export interface AwsClientOptions {
  /** Overrides AWS_ENDPOINT_URL (the emulator in tests). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** SDK attempts per call before a step gives up and the state machine retries. @default 3 */
  readonly maxAttempts?: number;
}

/** The configuration every certflow AWS client is built with: the options over the standard SDK environment. */
export function awsClientConfig(options: AwsClientOptions, region: string | undefined) {
  return {
    // Without a region the SDK reads AWS_REGION, as Lambda sets it.
    ...(region ? { region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  };
}

/**
 * What every AWS client certflow builds passes through: identity, unless a
 * Lambda entry point installed X-Ray capture (lambdas/shared/observability.ts).
 * A process-wide hook rather than an option, so that no builder, old or new,
 * can forget it.
 */
export type AwsClientHook = <C extends object>(client: C) => C;

let clientHook: AwsClientHook = (client) => client;

/** Installs `hook` for every AWS client built from now on (in Lambda: the Tracer's captureAWSv3Client). */
export function instrumentAwsClients(hook: AwsClientHook): void {
  clientHook = hook;
}

/**
 * Builds an AWS SDK client of class `Client` with {@link awsClientConfig}
 * (plus `extra`, such as assumed-role credentials), instrumented: every
 * certflow client is made here.
 */
export function awsClient<C extends object, X extends object = object>(
  Client: new (config: ReturnType<typeof awsClientConfig> & X) => C,
  options: AwsClientOptions,
  region: string | undefined,
  extra?: X,
): C {
  return clientHook(new Client({ ...awsClientConfig(options, region), ...(extra as X) }));
}

/**
 * An SDK plugin instrumenting a client that the SDK builds itself (the STS
 * client of a temporary-credentials provider): the hook receives the client's
 * middleware stack and region, all X-Ray capture reads of a client.
 */
export function instrumentationPlugin(region: string) {
  return {
    applyToStack: (middlewareStack: object) => {
      // Shaped like a client for the hook (Powertools checks for send); only the stack and the region are read.
      clientHook({
        middlewareStack,
        config: { region: async () => region },
        send: () => Promise.reject(new Error('instrumentationPlugin: the stand-in client is never sent')),
      });
    },
  };
}
