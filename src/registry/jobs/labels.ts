// The label and annotation keys of batch/v1 that the API server's Job
// strategy and the job and cronjob controllers share (k8s.io/api/batch/v1).

/** The generated selector's key: the Job's uid. */
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';
/** The Job's name on its pods. */
export const jobNameLabel = 'batch.kubernetes.io/job-name';
/** The unprefixed keys older clusters used, still set beside the prefixed ones. */
export const legacyControllerUidLabel = 'controller-uid';
export const legacyJobNameLabel = 'job-name';
/** An Indexed Job's pod index, as annotation (read by the downward API) and as label. */
export const jobCompletionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';
/** The finalizer that keeps a finished pod until the job controller has counted it. */
export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
/** The scheduled time (RFC 3339, in the CronJob's time zone) of a Job a CronJob made. */
export const cronJobScheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
