import { ListResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { awsErrorResponse, type CallInfo, type ProxiedResponse } from './fault-proxy';

/** One change of a ChangeResourceRecordSets body. */
interface BatchChange {
  readonly action: string;
  readonly name: string;
  readonly type: string;
}

/** The changes of a ChangeResourceRecordSets request body (REST-XML). */
export function changesOfBatch(body: string): BatchChange[] {
  return [...body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map(([, change = '']) => ({
    action: /<Action>([^<]+)<\/Action>/.exec(change)?.[1] ?? '',
    name: /<Name>([^<]+)<\/Name>/.exec(change)?.[1] ?? '',
    type: /<Type>([^<]+)<\/Type>/.exec(change)?.[1] ?? '',
  }));
}

function sameName(a: string, b: string): boolean {
  const canonical = (name: string) => name.replace(/\\052/g, '*').replace(/\.$/, '').toLowerCase();
  return canonical(a) === canonical(b);
}

/**
 * LOCAL STAND-IN for a Route 53 rule that moto 5 does not enforce: Route 53
 * refuses a whole change batch with `InvalidChangeBatch` ("Tried to create
 * resource record set [name='...', type='A'] but it already exists") when a
 * CREATE names a record set that exists, whereas moto refuses only a CREATE
 * identical to an earlier one and otherwise adds a second record set of the
 * same name and type. Use it in a fault-proxy `intercept` rule: it reads the
 * zone through `route53` (a client of the zone's account, straight to the
 * emulator) and either refuses the batch as Route 53 would, with nothing
 * applied, or forwards it.
 */
export async function refuseCreatesOfExistingRecords(
  call: CallInfo,
  forward: () => Promise<ProxiedResponse>,
  route53: Route53Client,
): Promise<ProxiedResponse> {
  const zoneId = /\/hostedzone\/([^/]+)\/rrset/.exec(call.url)?.[1];
  if (!zoneId) return forward();
  for (const change of changesOfBatch(call.body).filter((c) => c.action === 'CREATE')) {
    const listed = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: change.name, StartRecordType: change.type as never }),
    );
    if ((listed.ResourceRecordSets ?? []).some((set) => sameName(set.Name ?? '', change.name) && set.Type === change.type)) {
      const name = change.name.endsWith('.') ? change.name : `${change.name}.`;
      return awsErrorResponse(call, {
        status: 400,
        code: 'InvalidChangeBatch',
        message: `[Tried to create resource record set [name='${name}', type='${change.type}'] but it already exists]`,
      });
    }
  }
  return forward();
}
