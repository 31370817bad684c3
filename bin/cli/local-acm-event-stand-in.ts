import { type ACMClient, type CertificateDetail, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import type { AcmEvent } from '../../lambdas/core/issuance-wait';

/** A timestamp as EventBridge writes them: ISO 8601 without milliseconds. */
const isoSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * LOCAL STAND-IN FOR AWS: ACM's EventBridge events. An emulator (moto)
 * publishes no `aws.acm` events, so local runs would only ever see the
 * fallback poll. This stand-in watches the certificates that executions wait
 * on and, when it sees one ISSUED, delivers the event ACM documents for it
 * (`ACM Certificate Available`, `detail.Action` `ISSUANCE`, the ARN in
 * `resources`, from the certificate's region) to the same acm-events
 * handler the deployed rule targets. Like ACM, it announces a certificate
 * once. It is not part of certflow in AWS; turn it off (`--no-acm-events`,
 * `acmEvents: false`) to exercise the fallback poll as if the event was lost.
 */

/** User agent suffix of the stand-in's own reads, so that call counts can leave them out (they stand for ACM, not certflow). */
export const LOCAL_ACM_EVENT_STAND_IN_AGENT = 'certflow-local-acm-event-stand-in';

/** Certificates already announced in this process: ACM sends one issuance event per certificate. */
const announced = new Set<string>();

/** Options of {@link LocalAcmEventStandIn}. */
export interface LocalAcmEventStandInOptions {
  /** ACM clients (with the {@link LOCAL_ACM_EVENT_STAND_IN_AGENT} user agent) for a region. */
  readonly acm: (region: string) => ACMClient;
  /** Where the event goes: the acm-events handler. */
  readonly deliver: (event: AcmEvent) => Promise<unknown>;
  /** Account id put in the events. */
  readonly account: string;
  /** Real milliseconds between looks while something is watched (real-time runs). @default 250 */
  readonly pollMs?: number;
  readonly now?: () => Date;
}

/** What the stand-in delivered, for tests and the benchmark. */
export interface StandInDelivery {
  readonly certificateArn: string;
  readonly detailType: string;
  /** When the stand-in saw the certificate's new status (ACM's event time). */
  readonly at: Date;
}

/** See the module comment: a clearly local replacement for ACM's event publishing. */
export class LocalAcmEventStandIn {
  private readonly watched = new Map<string, { region: string; count: number }>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Every event delivered, oldest first. */
  readonly deliveries: StandInDelivery[] = [];

  constructor(private readonly options: LocalAcmEventStandInOptions) {}

  /** Starts watching a certificate an execution waits on (counted: two waits, two unwatches). */
  watch(certificateArn: string, region: string): void {
    const entry = this.watched.get(certificateArn);
    if (entry) entry.count += 1;
    else this.watched.set(certificateArn, { region, count: 1 });
  }

  unwatch(certificateArn: string): void {
    const entry = this.watched.get(certificateArn);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count <= 0) this.watched.delete(certificateArn);
  }

  /** Looks at every watched certificate every `pollMs` until {@link stop} (real-time runs). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.watched.size > 0) void this.sweep();
    }, this.options.pollMs ?? 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at every watched certificate; delivers the events due. Concurrent calls share one look. */
  sweep(): Promise<void> {
    this.sweeping ??= this.look().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async look(): Promise<void> {
    for (const [certificateArn, { region }] of [...this.watched]) {
      if (announced.has(certificateArn)) continue;
      let certificate: CertificateDetail | undefined;
      try {
        certificate = (await this.options.acm(region).send(new DescribeCertificateCommand({ CertificateArn: certificateArn }))).Certificate;
      } catch {
        // The emulator is throttled or busy: look again next time, as ACM's own delivery is best effort.
        continue;
      }
      // Another run's stand-in may have announced it while this one was reading.
      if (certificate?.Status !== 'ISSUED' || announced.has(certificateArn)) continue;
      const detailType = 'ACM Certificate Available';
      announced.add(certificateArn);
      const at = (this.options.now ?? (() => new Date()))();
      const event = {
        version: '0',
        id: `local-${this.deliveries.length + 1}-${Math.random().toString(36).slice(2)}`,
        'detail-type': detailType,
        source: 'aws.acm',
        account: this.options.account,
        time: isoSeconds(at),
        region,
        resources: [certificateArn],
        // The fields of ACM's documented detail, from the stand-in's own read.
        detail: {
          Action: 'ISSUANCE',
          CertificateType: 'AMAZON_ISSUED',
          CommonName: certificate.DomainName,
          DomainValidationMethod: 'DNS',
          ...(certificate.CreatedAt ? { CertificateCreatedDate: isoSeconds(certificate.CreatedAt) } : {}),
          ...(certificate.NotAfter ? { CertificateExpirationDate: isoSeconds(certificate.NotAfter) } : {}),
          ...(certificate.NotAfter ? { DaysToExpiry: Math.floor((certificate.NotAfter.getTime() - at.getTime()) / 86_400_000) } : {}),
          InUse: (certificate.InUseBy ?? []).length > 0,
          Exported: false,
        },
      };
      this.deliveries.push({ certificateArn, detailType, at });
      try {
        await this.options.deliver(event);
      } catch {
        // EventBridge retries a failed target; here the fallback poll covers it.
      }
    }
  }
}
