// The DNS metrics as counted per query (metrics.ts): plain counters added in
// at scrape time and histograms updated in place must expose exactly what
// prom-client's own inc() and observe() would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDnsMetrics } from '../../src/dns/metrics.js';

const labels = { server: 'dns://127.0.0.1:53', zone: 'cluster.local.', proto: 'udp' as const, type: 'A', rcode: 'NOERROR', plugin: 'kubernetes' };

test('counters, buckets, sums and counts as prom-client would expose them, across series sharing a histogram', async () => {
  const m = createDnsMetrics();
  m.observe({ ...labels, family: '1', seconds: 0.0003, requestSize: 512, responseSize: 100 });
  const v6 = m.series({ ...labels, family: '2' });
  v6.observe(0.003, 1232, 300);
  v6.observe(100, 1232, 70_000);
  const text = await m.registry.metrics();
  const value = (re: string) => Number(new RegExp(`^${re} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('coredns_dns_requests_total\\{[^}]*family="1",type="A"\\}'), 1);
  assert.equal(value('coredns_dns_requests_total\\{[^}]*family="2",type="A"\\}'), 2);
  assert.equal(value('coredns_dns_responses_total\\{[^}]*rcode="NOERROR",plugin="kubernetes"\\}'), 3);
  const bucket = (le: string) => value(`coredns_dns_request_duration_seconds_bucket\\{le="${le}"[^}]*\\}`);
  assert.deepEqual(['0.00025', '0.0005', '0.002', '0.004', '8.192', '\\+Inf'].map(bucket), [0, 1, 1, 2, 2, 3]);
  assert.ok(Math.abs(value('coredns_dns_request_duration_seconds_sum\\{[^}]*\\}') - 100.0033) < 1e-9);
  assert.equal(value('coredns_dns_request_duration_seconds_count\\{[^}]*\\}'), 3);
  const sizeBucket = (le: string) => value(`coredns_dns_response_size_bytes_bucket\\{le="${le}"[^}]*\\}`);
  assert.deepEqual(['100', '300', '64000', '\\+Inf'].map(sizeBucket), [1, 2, 2, 3]);
  // A second scrape adds nothing twice.
  assert.equal(Number(/^coredns_dns_responses_total\{[^}]*\} (\S+)$/m.exec(await m.registry.metrics())?.[1]), 3);
});
