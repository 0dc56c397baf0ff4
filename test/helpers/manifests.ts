// Workloads the proxy e2e tests share, as YAML for `kubectl apply -f -`.

/** Two serve-hostname HTTP backends pinned to node-1 (label app=pinned): what the traffic-policy tests need. */
export const pinnedBackends = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: pinned}
spec:
  replicas: 2
  selector: {matchLabels: {app: pinned}}
  template:
    metadata: {labels: {app: pinned}}
    spec:
      nodeSelector: {kubernetes.io/hostname: node-1}
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["serve-hostname", "--http", "--port", "80"]
        ports: [{containerPort: 80}]
`;

/** Over the pinned backends: LoadBalancer etp-local (externalTrafficPolicy Local, nodePort 30080) and itp-local (internalTrafficPolicy Local, 10.97.2.2). */
export const localPolicyServices = `
apiVersion: v1
kind: Service
metadata: {name: etp-local}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: pinned}
  ports: [{port: 80, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: itp-local}
spec:
  clusterIP: 10.97.2.2
  internalTrafficPolicy: Local
  selector: {app: pinned}
  ports: [{port: 80}]
`;

/** Three UDP serve-hostname backends (label app=udp-env) behind udp-svc: port 53 to the named container port. */
export const udpBackends = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: udp-env}
spec:
  replicas: 3
  selector: {matchLabels: {app: udp-env}}
  template:
    metadata: {labels: {app: udp-env}}
    spec:
      containers:
      - name: udp
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["serve-hostname", "--udp", "--http=false", "--port", "9376"]
        ports: [{containerPort: 9376, protocol: UDP, name: dns-ish}]
---
apiVersion: v1
kind: Service
metadata: {name: udp-svc}
spec:
  clusterIP: 10.97.3.3
  selector: {app: udp-env}
  ports: [{port: 53, protocol: UDP, targetPort: dns-ish}]
`;

/** Documents joined for one apply. */
export const manifests = (...docs: string[]) => docs.map((d) => d.trim()).join('\n---\n');
