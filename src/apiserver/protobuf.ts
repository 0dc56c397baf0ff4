// Decoding of Kubernetes protobuf request bodies into the JSON shape of the
// API. kubectl 1.32's typed generator commands (`create deployment`,
// `create service …`, `create namespace`, `create configmap`, …) send
// `application/vnd.kubernetes.protobuf` and never fall back to JSON, so the
// server must read this one encoding even though it only ever answers JSON.
//
// Wire format: the 4-byte magic "k8s\0", then a runtime.Unknown whose `raw`
// holds the typed message. Field numbers below are those of the upstream
// generated.proto files (k8s.io/api core/v1 and apps/v1, apimachinery
// meta/v1, runtime, util/intstr, api/resource). Only the fields a client can
// meaningfully send are declared; protobufjs skips the rest as unknown.
//
// Go's protobuf encoder writes every non-pointer field, zero or not, while
// the JSON encoder drops zero values (omitempty). So zero/empty values are
// treated as unset, except for fields that are pointers in Go (marked
// `[(ptr) = true]`): there, presence on the wire is the signal (e.g.
// `replicas: 0`, `maxSurge: 0`, `emptyDir: {}`). Fields marked
// `[(inline) = true]` are Go embedded structs whose JSON keys live in the
// parent object (Volume.volumeSource, Probe.handler, *.localObjectReference).
import { createRequire } from 'node:module';
import type { Field, Root, Type } from 'protobufjs';

/** Raised for bodies that are not a decodable Kubernetes protobuf object. */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

export function isProtobufContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

const PROTO = `
syntax = "proto2";
package kubesvc.k8s;

// ---- k8s.io/apimachinery/pkg/runtime ----
// Not metav1.TypeMeta: the runtime one numbers apiVersion first.
message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}

// ---- k8s.io/apimachinery/pkg/util/intstr, pkg/api/resource ----
message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
message Quantity {
  optional string string = 1;
}

// ---- k8s.io/apimachinery/pkg/apis/meta/v1 ----
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9 [(ptr) = true];
  optional int64 deletionGracePeriodSeconds = 10 [(ptr) = true];
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
}
message OwnerReference {
  optional string apiVersion = 5;
  optional string kind = 1;
  optional string name = 3;
  optional string uid = 4;
  optional bool controller = 6 [(ptr) = true];
  optional bool blockOwnerDeletion = 7 [(ptr) = true];
}
message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}
message LabelSelectorRequirement {
  optional string key = 1;
  optional string operator = 2;
  repeated string values = 3;
}
message Condition {
  optional string type = 1;
  optional string status = 2;
  optional int64 observedGeneration = 3;
  optional Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

// ---- k8s.io/api/core/v1 ----
message LocalObjectReference {
  optional string name = 1;
}
message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}

message Namespace {
  optional ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}
message NamespaceSpec {
  repeated string finalizers = 1;
}
message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}
message NamespaceCondition {
  optional string type = 1;
  optional string status = 2;
  optional Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

message Service {
  optional ObjectMeta metadata = 1;
  optional ServiceSpec spec = 2;
  optional ServiceStatus status = 3;
}
message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  repeated string clusterIPs = 18;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14 [(ptr) = true];
  repeated string ipFamilies = 19;
  optional string ipFamilyPolicy = 17 [(ptr) = true];
  optional bool allocateLoadBalancerNodePorts = 20 [(ptr) = true];
  optional string loadBalancerClass = 21 [(ptr) = true];
  optional string internalTrafficPolicy = 22 [(ptr) = true];
  optional string trafficDistribution = 23 [(ptr) = true];
}
message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional string appProtocol = 6 [(ptr) = true];
  optional int32 port = 3;
  optional IntOrString targetPort = 4;
  optional int32 nodePort = 5;
}
message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1 [(ptr) = true];
}
message ClientIPConfig {
  optional int32 timeoutSeconds = 1 [(ptr) = true];
}
message ServiceStatus {
  optional LoadBalancerStatus loadBalancer = 1;
  repeated Condition conditions = 2;
}
message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}
message LoadBalancerIngress {
  optional string ip = 1;
  optional string hostname = 2;
  optional string ipMode = 3 [(ptr) = true];
  repeated PortStatus ports = 4;
}
message PortStatus {
  optional int32 port = 1;
  optional string protocol = 2;
  optional string error = 3 [(ptr) = true];
}

message ConfigMap {
  optional ObjectMeta metadata = 1;
  optional bool immutable = 4 [(ptr) = true];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}
message Secret {
  optional ObjectMeta metadata = 1;
  optional bool immutable = 5 [(ptr) = true];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}
message ServiceAccount {
  optional ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4 [(ptr) = true];
}

message Pod {
  optional ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
}
message PodTemplateSpec {
  optional ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
}
message PodSpec {
  repeated Volume volumes = 1;
  repeated Container initContainers = 20;
  repeated Container containers = 2;
  optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4 [(ptr) = true];
  optional int64 activeDeadlineSeconds = 5 [(ptr) = true];
  optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7;
  optional string serviceAccountName = 8;
  optional string serviceAccount = 9;
  optional bool automountServiceAccountToken = 21 [(ptr) = true];
  optional string nodeName = 10;
  optional bool hostNetwork = 11;
  optional bool hostPID = 12;
  optional bool hostIPC = 13;
  optional bool shareProcessNamespace = 27 [(ptr) = true];
  repeated LocalObjectReference imagePullSecrets = 15;
  optional string hostname = 16;
  optional string subdomain = 17;
  optional string schedulerName = 19;
  repeated Toleration tolerations = 22;
  repeated HostAlias hostAliases = 23;
  optional string priorityClassName = 24;
  optional int32 priority = 25 [(ptr) = true];
  optional PodDNSConfig dnsConfig = 26 [(ptr) = true];
  repeated PodReadinessGate readinessGates = 28;
  optional string runtimeClassName = 29 [(ptr) = true];
  optional bool enableServiceLinks = 30 [(ptr) = true];
  optional string preemptionPolicy = 31 [(ptr) = true];
  optional bool setHostnameAsFQDN = 35 [(ptr) = true];
  optional bool hostUsers = 37 [(ptr) = true];
}
message Container {
  optional string name = 1;
  optional string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  optional string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvFromSource envFrom = 19;
  repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8;
  optional string restartPolicy = 24 [(ptr) = true];
  repeated VolumeMount volumeMounts = 9;
  optional Probe livenessProbe = 10 [(ptr) = true];
  optional Probe readinessProbe = 11 [(ptr) = true];
  optional Probe startupProbe = 22 [(ptr) = true];
  optional string terminationMessagePath = 13;
  optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14;
  optional bool stdin = 16;
  optional bool stdinOnce = 17;
  optional bool tty = 18;
}
message ContainerPort {
  optional string name = 1;
  optional int32 hostPort = 2;
  optional int32 containerPort = 3;
  optional string protocol = 4;
  optional string hostIP = 5;
}
message EnvVar {
  optional string name = 1;
  optional string value = 2;
  optional EnvVarSource valueFrom = 3 [(ptr) = true];
}
message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1 [(ptr) = true];
  optional ResourceFieldSelector resourceFieldRef = 2 [(ptr) = true];
  optional ConfigMapKeySelector configMapKeyRef = 3 [(ptr) = true];
  optional SecretKeySelector secretKeyRef = 4 [(ptr) = true];
}
message ObjectFieldSelector {
  optional string apiVersion = 1;
  optional string fieldPath = 2;
}
message ResourceFieldSelector {
  optional string containerName = 1;
  optional string resource = 2;
  optional Quantity divisor = 3;
}
message ConfigMapKeySelector {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional string key = 2;
  optional bool optional = 3 [(ptr) = true];
}
message SecretKeySelector {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional string key = 2;
  optional bool optional = 3 [(ptr) = true];
}
message EnvFromSource {
  optional string prefix = 1;
  optional ConfigMapEnvSource configMapRef = 2 [(ptr) = true];
  optional SecretEnvSource secretRef = 3 [(ptr) = true];
}
message ConfigMapEnvSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional bool optional = 2 [(ptr) = true];
}
message SecretEnvSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  optional bool optional = 2 [(ptr) = true];
}
message ResourceRequirements {
  map<string, Quantity> limits = 1;
  map<string, Quantity> requests = 2;
}
message VolumeMount {
  optional string name = 1;
  optional bool readOnly = 2;
  optional string recursiveReadOnly = 7 [(ptr) = true];
  optional string mountPath = 3;
  optional string subPath = 4;
  optional string mountPropagation = 5 [(ptr) = true];
  optional string subPathExpr = 6;
}
message Volume {
  optional string name = 1;
  optional VolumeSource volumeSource = 2 [(inline) = true];
}
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1 [(ptr) = true];
  optional EmptyDirVolumeSource emptyDir = 2 [(ptr) = true];
  optional SecretVolumeSource secret = 6 [(ptr) = true];
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10 [(ptr) = true];
  optional ConfigMapVolumeSource configMap = 19 [(ptr) = true];
}
message HostPathVolumeSource {
  optional string path = 1;
  optional string type = 2 [(ptr) = true];
}
message EmptyDirVolumeSource {
  optional string medium = 1;
  optional Quantity sizeLimit = 2 [(ptr) = true];
}
message SecretVolumeSource {
  optional string secretName = 1;
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(ptr) = true];
  optional bool optional = 4 [(ptr) = true];
}
message ConfigMapVolumeSource {
  optional LocalObjectReference localObjectReference = 1 [(inline) = true];
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(ptr) = true];
  optional bool optional = 4 [(ptr) = true];
}
message KeyToPath {
  optional string key = 1;
  optional string path = 2;
  optional int32 mode = 3 [(ptr) = true];
}
message PersistentVolumeClaimVolumeSource {
  optional string claimName = 1;
  optional bool readOnly = 2;
}
message Probe {
  optional ProbeHandler handler = 1 [(inline) = true];
  optional int32 initialDelaySeconds = 2;
  optional int32 timeoutSeconds = 3;
  optional int32 periodSeconds = 4;
  optional int32 successThreshold = 5;
  optional int32 failureThreshold = 6;
  optional int64 terminationGracePeriodSeconds = 7 [(ptr) = true];
}
message ProbeHandler {
  optional ExecAction exec = 1 [(ptr) = true];
  optional HTTPGetAction httpGet = 2 [(ptr) = true];
  optional TCPSocketAction tcpSocket = 3 [(ptr) = true];
  optional GRPCAction grpc = 4 [(ptr) = true];
}
message ExecAction {
  repeated string command = 1;
}
message HTTPGetAction {
  optional string path = 1;
  optional IntOrString port = 2;
  optional string host = 3;
  optional string scheme = 4;
  repeated HTTPHeader httpHeaders = 5;
}
message HTTPHeader {
  optional string name = 1;
  optional string value = 2;
}
message TCPSocketAction {
  optional IntOrString port = 1;
  optional string host = 2;
}
message GRPCAction {
  optional int32 port = 1;
  optional string service = 2 [(ptr) = true];
}
message Toleration {
  optional string key = 1;
  optional string operator = 2;
  optional string value = 3;
  optional string effect = 4;
  optional int64 tolerationSeconds = 5 [(ptr) = true];
}
message HostAlias {
  optional string ip = 1;
  repeated string hostnames = 2;
}
message PodDNSConfig {
  repeated string nameservers = 1;
  repeated string searches = 2;
  repeated PodDNSConfigOption options = 3;
}
message PodDNSConfigOption {
  optional string name = 1;
  optional string value = 2 [(ptr) = true];
}
message PodReadinessGate {
  optional string conditionType = 1;
}

// ---- k8s.io/api/apps/v1 ----
message Deployment {
  optional ObjectMeta metadata = 1;
  optional DeploymentSpec spec = 2;
  optional DeploymentStatus status = 3;
}
message DeploymentSpec {
  optional int32 replicas = 1 [(ptr) = true];
  optional LabelSelector selector = 2 [(ptr) = true];
  optional PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4;
  optional int32 minReadySeconds = 5;
  optional int32 revisionHistoryLimit = 6 [(ptr) = true];
  optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9 [(ptr) = true];
}
message DeploymentStrategy {
  optional string type = 1;
  optional RollingUpdateDeployment rollingUpdate = 2 [(ptr) = true];
}
message RollingUpdateDeployment {
  optional IntOrString maxUnavailable = 1 [(ptr) = true];
  optional IntOrString maxSurge = 2 [(ptr) = true];
}
message DeploymentStatus {
  optional int64 observedGeneration = 1;
  optional int32 replicas = 2;
  optional int32 updatedReplicas = 3;
  optional int32 readyReplicas = 7;
  optional int32 availableReplicas = 4;
  optional int32 unavailableReplicas = 5;
  optional int32 terminatingReplicas = 9 [(ptr) = true];
  repeated DeploymentCondition conditions = 6;
  optional int32 collisionCount = 8 [(ptr) = true];
}
message DeploymentCondition {
  optional string type = 1;
  optional string status = 2;
  optional Time lastUpdateTime = 6;
  optional Time lastTransitionTime = 7;
  optional string reason = 4;
  optional string message = 5;
}

message ReplicaSet {
  optional ObjectMeta metadata = 1;
  optional ReplicaSetSpec spec = 2;
  optional ReplicaSetStatus status = 3;
}
message ReplicaSetSpec {
  optional int32 replicas = 1 [(ptr) = true];
  optional int32 minReadySeconds = 4;
  optional LabelSelector selector = 2 [(ptr) = true];
  optional PodTemplateSpec template = 3;
}
message ReplicaSetStatus {
  optional int32 replicas = 1;
  optional int32 fullyLabeledReplicas = 2;
  optional int32 readyReplicas = 4;
  optional int32 availableReplicas = 5;
  optional int32 terminatingReplicas = 7 [(ptr) = true];
  optional int64 observedGeneration = 3;
  repeated ReplicaSetCondition conditions = 6;
}
message ReplicaSetCondition {
  optional string type = 1;
  optional string status = 2;
  optional Time lastTransitionTime = 3;
  optional string reason = 4;
  optional string message = 5;
}

message DaemonSet {
  optional ObjectMeta metadata = 1;
  optional DaemonSetSpec spec = 2;
  optional DaemonSetStatus status = 3;
}
message DaemonSetSpec {
  optional LabelSelector selector = 1 [(ptr) = true];
  optional PodTemplateSpec template = 2;
  optional DaemonSetUpdateStrategy updateStrategy = 3;
  optional int32 minReadySeconds = 4;
  optional int32 revisionHistoryLimit = 6 [(ptr) = true];
}
message DaemonSetUpdateStrategy {
  optional string type = 1;
  optional RollingUpdateDaemonSet rollingUpdate = 2 [(ptr) = true];
}
message RollingUpdateDaemonSet {
  optional IntOrString maxUnavailable = 1 [(ptr) = true];
  optional IntOrString maxSurge = 2 [(ptr) = true];
}
message DaemonSetStatus {
  optional int32 currentNumberScheduled = 1;
  optional int32 numberMisscheduled = 2;
  optional int32 desiredNumberScheduled = 3;
  optional int32 numberReady = 4;
  optional int64 observedGeneration = 5;
  optional int32 updatedNumberScheduled = 6;
  optional int32 numberAvailable = 7;
  optional int32 numberUnavailable = 8;
  optional int32 collisionCount = 9 [(ptr) = true];
  repeated DaemonSetCondition conditions = 10;
}
message DaemonSetCondition {
  optional string type = 1;
  optional string status = 2;
  optional Time lastTransitionTime = 3;
  optional string reason = 4;
  optional string message = 5;
}

// ---- k8s.io/api/rbac/v1 ----
message PolicyRule {
  repeated string verbs = 1;
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}
message AggregationRule {
  repeated LabelSelector clusterRoleSelectors = 1;
}
message Role {
  optional ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2;
}
message ClusterRole {
  optional ObjectMeta metadata = 1;
  repeated PolicyRule rules = 2;
  optional AggregationRule aggregationRule = 3 [(ptr) = true];
}
message Subject {
  optional string kind = 1;
  optional string apiGroup = 2;
  optional string name = 3;
  optional string namespace = 4;
}
message RoleRef {
  optional string apiGroup = 1;
  optional string kind = 2;
  optional string name = 3;
}
message RoleBinding {
  optional ObjectMeta metadata = 1;
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3;
}

// ---- k8s.io/api/authorization/v1 ----
message ResourceAttributes {
  optional string namespace = 1;
  optional string verb = 2;
  optional string group = 3;
  optional string version = 4;
  optional string resource = 5;
  optional string subresource = 6;
  optional string name = 7;
}
message NonResourceAttributes {
  optional string path = 1;
  optional string verb = 2;
}
message ExtraValue {
  repeated string items = 1;
}
message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1 [(ptr) = true];
  optional NonResourceAttributes nonResourceAttributes = 2 [(ptr) = true];
  optional string user = 3;
  repeated string groups = 4;
  optional string uid = 6;
}
message SubjectAccessReview {
  optional ObjectMeta metadata = 1;
  optional SubjectAccessReviewSpec spec = 2;
}
message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1 [(ptr) = true];
  optional NonResourceAttributes nonResourceAttributes = 2 [(ptr) = true];
}
message SelfSubjectAccessReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectAccessReviewSpec spec = 2;
}
message SelfSubjectRulesReviewSpec {
  optional string namespace = 1;
}
message SelfSubjectRulesReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectRulesReviewSpec spec = 2;
}

// ---- k8s.io/api/authentication/v1 ----
message BoundObjectReference {
  optional string kind = 1;
  optional string apiVersion = 2;
  optional string name = 3;
  optional string uid = 4;
}
message TokenRequestSpec {
  repeated string audiences = 1;
  optional int64 expirationSeconds = 4 [(ptr) = true];
  optional BoundObjectReference boundObjectRef = 3 [(ptr) = true];
}
message TokenRequest {
  optional ObjectMeta metadata = 1;
  optional TokenRequestSpec spec = 2;
}
message TokenReviewSpec {
  optional string token = 1;
  repeated string audiences = 2;
}
message TokenReview {
  optional ObjectMeta metadata = 1;
  optional TokenReviewSpec spec = 2;
}
message SelfSubjectReview {
  optional ObjectMeta metadata = 1;
}

// batch/v1: what kubectl create job (also --from=cronjob/x) and create cronjob send.
message Job {
  optional ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
}
message JobSpec {
  optional int32 parallelism = 1 [(ptr) = true];
  optional int32 completions = 2 [(ptr) = true];
  optional int64 activeDeadlineSeconds = 3 [(ptr) = true];
  optional LabelSelector selector = 4 [(ptr) = true];
  optional bool manualSelector = 5 [(ptr) = true];
  optional PodTemplateSpec template = 6;
  optional int32 backoffLimit = 7 [(ptr) = true];
  optional int32 ttlSecondsAfterFinished = 8 [(ptr) = true];
  optional string completionMode = 9 [(ptr) = true];
  optional bool suspend = 10 [(ptr) = true];
  optional int32 backoffLimitPerIndex = 12 [(ptr) = true];
  optional int32 maxFailedIndexes = 13 [(ptr) = true];
  optional string podReplacementPolicy = 14 [(ptr) = true];
  optional string managedBy = 15 [(ptr) = true];
}
message JobTemplateSpec {
  optional ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
}
message CronJob {
  optional ObjectMeta metadata = 1;
  optional CronJobSpec spec = 2;
}
message CronJobSpec {
  optional string schedule = 1;
  optional int64 startingDeadlineSeconds = 2 [(ptr) = true];
  optional string concurrencyPolicy = 3;
  optional bool suspend = 4 [(ptr) = true];
  optional JobTemplateSpec jobTemplate = 5;
  optional int32 successfulJobsHistoryLimit = 6 [(ptr) = true];
  optional int32 failedJobsHistoryLimit = 7 [(ptr) = true];
  optional string timeZone = 8 [(ptr) = true];
}

// policy/v1: what kubectl create pdb and kubectl drain send.
message PodDisruptionBudget {
  optional ObjectMeta metadata = 1;
  optional PodDisruptionBudgetSpec spec = 2;
}
message PodDisruptionBudgetSpec {
  optional IntOrString minAvailable = 1 [(ptr) = true];
  optional LabelSelector selector = 2 [(ptr) = true];
  optional IntOrString maxUnavailable = 3 [(ptr) = true];
  optional string unhealthyPodEvictionPolicy = 4 [(ptr) = true];
}
message Eviction {
  optional ObjectMeta metadata = 1;
  optional DeleteOptions deleteOptions = 2 [(ptr) = true];
}
message DeleteOptions {
  optional int64 gracePeriodSeconds = 1 [(ptr) = true];
  optional Preconditions preconditions = 2 [(ptr) = true];
  optional bool orphanDependents = 3 [(ptr) = true];
  optional string propagationPolicy = 4 [(ptr) = true];
  repeated string dryRun = 5;
}
message Preconditions {
  optional string uid = 1 [(ptr) = true];
  optional string resourceVersion = 2 [(ptr) = true];
}
`;

/** apiVersion/kind → top-level message. Pod status is left out on purpose: clients never write it as protobuf. */
const KINDS: ReadonlyMap<string, string> = new Map([
  ['v1/Namespace', 'Namespace'],
  ['v1/Service', 'Service'],
  ['v1/Pod', 'Pod'],
  ['v1/ConfigMap', 'ConfigMap'],
  ['v1/Secret', 'Secret'],
  ['v1/ServiceAccount', 'ServiceAccount'],
  ['apps/v1/Deployment', 'Deployment'],
  ['apps/v1/ReplicaSet', 'ReplicaSet'],
  ['apps/v1/DaemonSet', 'DaemonSet'],
  ['rbac.authorization.k8s.io/v1/Role', 'Role'],
  ['rbac.authorization.k8s.io/v1/ClusterRole', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1/RoleBinding', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'RoleBinding'],
  ['authorization.k8s.io/v1/SubjectAccessReview', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1/LocalSubjectAccessReview', 'SubjectAccessReview'],
  ['authorization.k8s.io/v1/SelfSubjectAccessReview', 'SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1/SelfSubjectRulesReview', 'SelfSubjectRulesReview'],
  ['authentication.k8s.io/v1/TokenRequest', 'TokenRequest'],
  ['authentication.k8s.io/v1/TokenReview', 'TokenReview'],
  ['authentication.k8s.io/v1/SelfSubjectReview', 'SelfSubjectReview'],
  ['policy/v1/PodDisruptionBudget', 'PodDisruptionBudget'],
  ['policy/v1/Eviction', 'Eviction'],
  ['policy/v1beta1/Eviction', 'Eviction'],
  ['batch/v1/Job', 'Job'],
  ['batch/v1/CronJob', 'CronJob'],
]);

const PACKAGE = 'kubesvc.k8s';

let cachedRoot: Root | undefined;

// Loaded and parsed on first use so that servers that never see protobuf pay nothing.
function root(): Root {
  if (!cachedRoot) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
    // keepCase: field names must stay the JSON names (clusterIP, hostPID, …).
    cachedRoot = protobuf.parse(PROTO, { keepCase: true }).root;
    cachedRoot.resolveAll();
  }
  return cachedRoot;
}

function lookup(name: string): Type {
  return root().lookupType(`${PACKAGE}.${name}`);
}

/** The kinds decodeProtobufObject understands, as "apiVersion/kind". */
export function protobufKinds(): string[] {
  return [...KINDS.keys()];
}

export function decodeProtobufObject(body: Buffer): { apiVersion: string; kind: string; object: Record<string, unknown> } {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufDecodeError('protobuf body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  const unknown = decode(lookup('Unknown'), body.subarray(MAGIC.length), 'runtime.Unknown envelope');
  const typeMeta = unknown['typeMeta'] as Record<string, unknown> | undefined;
  const apiVersion = typeof typeMeta?.['apiVersion'] === 'string' ? typeMeta['apiVersion'] : '';
  const kind = typeof typeMeta?.['kind'] === 'string' ? typeMeta['kind'] : '';
  if (!apiVersion || !kind) {
    throw new ProtobufDecodeError('protobuf body has no apiVersion/kind in its runtime.Unknown typeMeta');
  }
  const contentEncoding = unknown['contentEncoding'];
  if (typeof contentEncoding === 'string' && contentEncoding !== '') {
    throw new ProtobufDecodeError(`protobuf body uses unsupported contentEncoding "${contentEncoding}"`);
  }
  const contentType = unknown['contentType'];
  if (typeof contentType === 'string' && contentType !== '' && !isProtobufContentType(contentType)) {
    throw new ProtobufDecodeError(`protobuf body wraps unsupported contentType "${contentType}"`);
  }
  const typeName = KINDS.get(`${apiVersion}/${kind}`);
  if (!typeName) {
    throw new ProtobufDecodeError(`protobuf decoding of ${kind} in ${apiVersion} is not supported; send JSON instead`);
  }
  const raw = unknown['raw'];
  const bytes = raw instanceof Uint8Array ? raw : new Uint8Array(0);
  const fields = decode(lookup(typeName), bytes, `${apiVersion} ${kind}`);
  const object = convertMessage(lookup(typeName), fields);
  return { apiVersion, kind, object: { apiVersion, kind, ...object } };
}

function decode(type: Type, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new ProtobufDecodeError(`malformed protobuf ${what}: ${(err as Error).message}`);
  }
}

function isPtr(field: Field): boolean {
  return field.options?.['(ptr)'] === true;
}

function isInline(field: Field): boolean {
  return field.options?.['(inline)'] === true;
}

/**
 * protobufjs sets a decoded field as an own property only when it was on the
 * wire (defaults live on the prototype), which is how presence is told apart
 * from absence for pointer fields.
 */
function convertMessage(type: Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const value = msg[field.name];
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      const obj: Record<string, unknown> = {};
      // Map values are kept even when empty: a label "a" with value "" is meaningful.
      // defineProperty so that a key such as "__proto__" stays a plain key.
      for (const [k, v] of entries) {
        Object.defineProperty(obj, k, { value: convertValue(field, v, true), enumerable: true, writable: true, configurable: true });
      }
      out[field.name] = obj;
    } else if (field.repeated) {
      const list = value as unknown[];
      if (list.length === 0) continue;
      out[field.name] = list.map((v) => convertValue(field, v, true));
    } else {
      const v = convertValue(field, value, isPtr(field));
      if (v === undefined) continue;
      if (isInline(field)) Object.assign(out, v);
      else out[field.name] = v;
    }
  }
  return out;
}

/** Returns undefined for a zero value that JSON's omitempty would drop, unless `keep`. */
function convertValue(field: Field, value: unknown, keep: boolean): unknown {
  const rt = field.resolvedType;
  if (rt && 'fieldsArray' in rt) {
    const msg = value as Record<string, unknown>;
    switch (rt.name) {
      case 'Time':
        return formatTime(msg);
      case 'IntOrString': {
        const isString = toNumber(own(msg, 'type') ?? 0) === 1;
        const v = isString ? ((own(msg, 'strVal') as string | undefined) ?? '') : toNumber(own(msg, 'intVal') ?? 0);
        return keep || (v !== '' && v !== 0) ? v : undefined;
      }
      case 'Quantity': {
        const s = (own(msg, 'string') as string | undefined) ?? '';
        return keep || s !== '' ? s : undefined;
      }
      default: {
        const obj = convertMessage(rt as Type, msg);
        return keep || Object.keys(obj).length > 0 ? obj : undefined;
      }
    }
  }
  let v = value;
  if (field.type === 'bytes') {
    const b = value as Uint8Array;
    if (!keep && b.length === 0) return undefined;
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
  }
  if (field.type === 'int64' || field.type === 'uint64' || field.type === 'sint64') v = toNumber(value);
  if (!keep && (v === '' || v === 0 || v === false)) return undefined;
  return v;
}

function own(msg: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(msg, key) ? msg[key] : undefined;
}

/** int64 fields come back as Long objects (protobufjs uses the `long` package). */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return v.toNumber() as number;
  return Number(v);
}

/**
 * metav1.Time: Go writes an empty message for the zero time (which JSON
 * renders as null), else seconds/nanos; JSON is RFC 3339 in UTC at second
 * precision, the format metav1.Time.MarshalJSON produces.
 */
function formatTime(msg: Record<string, unknown>): string | undefined {
  const seconds = own(msg, 'seconds');
  const nanos = own(msg, 'nanos');
  if (seconds === undefined && nanos === undefined) return undefined;
  const s = toNumber(seconds ?? 0);
  const n = toNumber(nanos ?? 0);
  if (n < 0 || n > 999_999_999) throw new ProtobufDecodeError(`invalid protobuf timestamp: nanos ${n} out of range`);
  const date = new Date(s * 1000);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) {
    throw new ProtobufDecodeError(`invalid protobuf timestamp: seconds ${s} out of range`);
  }
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
