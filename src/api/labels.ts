// The well-known labels and annotations of the API that more than one part of
// kubesvc reads or writes (k8s.io/api core/v1 and discovery/v1
// well_known_labels.go and annotation_key_constants.go), named once so the
// controllers that write them and the proxy, DNS and CLI that read them cannot
// spell them differently.

/** EndpointSlice → the Service it belongs to (discovery/v1 LabelServiceName). */
export const labelServiceName = 'kubernetes.io/service-name';
/** EndpointSlice → the controller that manages it (discovery/v1 LabelManagedBy). */
export const labelManagedBy = 'endpointslice.kubernetes.io/managed-by';
/** Endpoints that the mirroring controller must leave alone (discovery/v1 LabelSkipMirror). */
export const labelSkipMirror = 'endpointslice.kubernetes.io/skip-mirror';
/** Endpoints and EndpointSlices of headless Services (core/v1 IsHeadlessService). */
export const labelHeadless = 'service.kubernetes.io/headless';
/** The proxy that handles a Service; unset means the default one (core/v1 LabelServiceProxyName). */
export const labelServiceProxyName = 'service.kubernetes.io/service-proxy-name';
/** A node's zone (core/v1 LabelTopologyZone). */
export const labelTopologyZone = 'topology.kubernetes.io/zone';

/** Topology-aware routing of a Service ("Auto"; core/v1 AnnotationTopologyMode). */
export const annotationTopologyMode = 'service.kubernetes.io/topology-mode';
/** The older name of annotationTopologyMode (core/v1 DeprecatedAnnotationTopologyAwareHints). */
export const annotationTopologyAwareHints = 'service.kubernetes.io/topology-aware-hints';
/** When the last change to the endpoints' pods or Service happened (core/v1 EndpointsLastChangeTriggerTime). */
export const annotationLastChangeTriggerTime = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Endpoints truncated at their capacity (core/v1 EndpointsOverCapacity). */
export const annotationOverCapacity = 'endpoints.kubernetes.io/over-capacity';
/** Leader-election records kept on Endpoints (resourcelock LeaderElectionRecordAnnotationKey). */
export const annotationLeaderElection = 'control-plane.alpha.kubernetes.io/leader';
/** kubectl apply's record of the applied object (core/v1 LastAppliedConfigAnnotation). */
export const annotationLastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
