/**
 * AWS and environment errors in one line, for people at a terminal: what is
 * wrong and what to do, never a stack trace.
 */
export function describeAwsError(error: unknown, context: { readonly endpoint?: string; readonly region?: string } = {}): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const name = error.name;
  const message = error.message;
  const code = (error as { code?: string }).code;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return 'no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for a local emulator any non-empty values do)';
  }
  if (/Region is missing/i.test(message)) return 'no AWS region set: export AWS_REGION (for example AWS_REGION=us-east-1)';
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException')
    return 'your AWS session has expired: log in again (aws sso login, or refresh the credentials)';
  if (name === 'InvalidClientTokenId' || name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return `AWS did not accept these credentials (${name}): check AWS_PROFILE / AWS_ACCESS_KEY_ID and the region${context.region ? ` (${context.region})` : ''}`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation') {
    return `AWS refused (${name}): ${message}`;
  }
  if (name === 'ValidationError' && /does not exist/.test(message)) {
    return `${message}${context.region ? ` in ${context.region}` : ''}: deploy the stack (npx cdk deploy) or name another with --stack`;
  }
  if (name === 'ResourceNotFoundException') return `AWS answered ${name}: ${message}`;
  if (code === 'ECONNREFUSED' || name === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return `cannot connect to ${context.endpoint ?? 'the AWS endpoint'}: ${message}${context.endpoint ? ' (is the emulator running? check AWS_ENDPOINT_URL)' : ''}`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /getaddrinfo/.test(message)) return `cannot resolve the AWS endpoint: ${message} (no network?)`;
  if ((error as { $metadata?: unknown }).$metadata !== undefined) return `AWS answered ${name}: ${message}`;
  return undefined;
}
