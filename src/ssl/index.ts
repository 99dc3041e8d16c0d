export type { CertificateReport, CertificateSummary, ValidateOptions } from './certificates.js';
export { validateCertificates } from './certificates.js';
export { describeSource } from './sources.js';
export { type BrokerTlsReport, checkBrokerTls, explainTlsFailure } from './tls-causes.js';
export { CertificateValidator, type ValidationResult } from './validator.js';
