// LoadBalancer IP assignment: see loadbalancer/controller.ts (the controller) and loadbalancer/pool.ts (the allocator).
export { createLoadBalancerController, isOurs, loadBalancerClass } from './loadbalancer/controller.js';
