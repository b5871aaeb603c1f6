/** The test deployment's HealthImaging identifiers, as the adapters send them; no real account's. */
export const DATASTORE_ID = 'fedcba9876543210fedcba9876543210';
export const IMPORT_ROLE_ARN = 'arn:aws:iam::111122223333:role/UploadPortal-test-ImportRole';
export const DELIVERY_QUEUE_URL = 'https://sqs.eu-west-2.amazonaws.com/111122223333/UploadPortal-test-DeliveryQueue';
