/**
 * The ports: capabilities the use cases need from the outside world, one file per capability.
 * Adapters in lambdas/adapters implement them; the use cases never import adapters.
 */
export type { Clock } from './clock';
export type { DeliveryProgress } from './delivery-progress';
export type { DeliveryRetries } from './delivery-retries';
export type { DeliveryStore } from './delivery-store';
export type { DeliveryObject, DeliveryTarget, StudyDeliveryOutcome, StudyDeliveryRequest } from './delivery-target';
export type { CodeDirectory, CodeDirectoryEntry } from './code-directory';
export type { CodeStore } from './code-store';
export type { CompletionLock } from './completion-lock';
export type { EventOutbox, SessionEventClaim } from './event-outbox';
export type { EventPublisher } from './event-publisher';
export type { FileVerdicts, VerdictTarget } from './file-verdicts';
export type { CompletionJob, CompletionQueue } from './completion-queue';
export type { Ids, RandomSource } from './ids';
export type { ManifestWriter } from './manifest-writer';
export type { CompletionOutcome, MultipartRecorder, MultipartUploads, StoredPart } from './multipart-uploads';
export type { ObjectReader, ObjectStart } from './object-reader';
export type { ObjectRemover } from './object-remover';
export type { ObjectStreamer } from './object-streamer';
export type { Log, MetricName, Metrics } from './observability';
export type { RateLimiter } from './rate-limiter';
export type { Reservation, ReservationRefusal, ReservationStore, StudyIncrement } from './reservations';
export type { RetentionMarker } from './retention-marker';
export type { SecretHasher } from './secret-hasher';
export type { SessionRejections } from './session-rejections';
export type { FilesPage, FileSummary, SessionFilePages } from './session-file-pages';
export type { SessionStore } from './session-store';
export type { StudyEventOutbox } from './study-event-outbox';
export type { SweepQueue } from './sweep-queue';
export type { UploadSigner } from './upload-signer';
export type { AuditLog, ClientAddressHasher } from './audit-log';
export type { MalwareScans, MalwareScanTags } from './malware-scans';
