// `kubesvc up`'s live page, in a real browser (Debian's chromium, headless,
// driven by puppeteer-core): nothing without the token; with it, the
// fixtures' Services, a Service created with kubectl shown within a second,
// a conntrack counter moving after traffic from a node, a Service's rules, a
// DNS query seen, and a trace run from the page. Screenshots are saved under
// test-results/dashboard/ (printed); load and update times are printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser, Page } from 'puppeteer-core';
import { repoRoot } from '../helpers/cli.js';
import { fixtures } from '../helpers/fixtures.js';
import { answersFrom, namespaceSkipReason, onNode } from '../helpers/root.js';
import { waitFor } from '../helpers/apiserver.js';
import { startUp, type UpCluster } from '../helpers/up.js';

/** Debian's chromium, found on PATH (puppeteer-core wants a path, and never downloads a browser). */
const chromium = () => (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'chromium')).find((f) => existsSync(f))!;
const shots = join(repoRoot, 'test-results', 'dashboard');
const figures: string[] = [];

describe('the dashboard, in chromium', { skip: namespaceSkipReason(['chromium', 'curl', 'dig', 'conntrack', 'iptables-restore']), timeout: 300_000 }, () => {
  let cluster: UpCluster | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url: string;
  let base: string;

  const shot = async (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  before(async () => {
    cluster = await startUp('dashboard', ['--nodes', '2']);
    const m = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/.exec(cluster.up.output());
    assert.ok(m, `the ready screen names the dashboard:\n${cluster.up.output()}`);
    base = m[1];
    url = `${base}/?token=${m[2]}`;
    await cluster.kubectl.ok(['apply', '-f', join(fixtures, 'backend-deployment.yaml'), '-f', join(fixtures, 'services.yaml')]);
    await cluster.kubectl.ok(['rollout', 'status', 'deployment/service-env', '--timeout=90s']);
    await waitFor('the cluster IP answering from node-1', async () => !(await answersFrom(cluster!.dataDir, 'http://10.97.1.1/', { n: 2 })).includes('FAILED'), 30_000);
    mkdirSync(shots, { recursive: true });
    console.log(`dashboard screenshots: ${shots}`);
    const { launch } = await import('puppeteer-core');
    // Root cannot use chromium's sandbox; the page is our own, on loopback.
    browser = await launch({ executablePath: chromium(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
    if (figures.length) console.log(`dashboard figures:\n  ${figures.join('\n  ')}`);
  });

  test('without the token, or with a wrong one, everything is 401', async () => {
    for (const path of ['/', '/app.js', '/events', '/api/state', '/api/rules?name=service-clusterip&node=node-1', '/?token=wrong']) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 401, path);
      await r.body?.cancel();
    }
    const post = await fetch(`${base}/api/trace`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"target":"service-clusterip"}' });
    assert.equal(post.status, 401);
  });

  test('the token opens the page (once) and it lists the fixtures\' Services', async () => {
    const t0 = performance.now();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('tr[data-service="default/service-clusterip"]', { timeout: 10_000 });
    figures.push(`page load (token → Services listed): ${Math.round(performance.now() - t0)} ms`);
    assert.equal(new URL(page.url()).search, '', 'the token is gone from the address bar');
    for (const name of ['service-clusterip', 'service-headless', 'service-nodeport', 'service-externalname', 'service-affinity', 'service-multiport', 'service-lb']) {
      assert.ok(await page.$(`tr[data-service="default/${name}"]`), name);
    }
    const row = await page.$eval('tr[data-service="default/service-clusterip"]', (tr) => tr.textContent);
    assert.match(row ?? '', /10\.97\.1\.1/);
    await waitFor('the nodes and their pods listed', async () => /node-2/.test((await page.$eval('#nodes-body', (b) => b.textContent)) ?? ''), 5000);
    const cookies = await page.cookies();
    const c = cookies.find((x) => x.name === 'kubesvc-dashboard');
    assert.ok(c?.httpOnly && c.sameSite === 'Strict', JSON.stringify(cookies));
    // The token worked once: a second use is refused.
    const again = await fetch(url, { redirect: 'manual' });
    assert.equal(again.status, 401);
    await shot('1-services');
  });

  test('a Service created with kubectl shows within a second', async () => {
    const appeared = page.waitForSelector('tr[data-service="default/dash-new"]', { timeout: 10_000 }).then(() => performance.now());
    const t0 = performance.now();
    await cluster!.kubectl.ok(['create', 'service', 'clusterip', 'dash-new', '--tcp=80:8080']);
    const created = performance.now();
    const seen = await appeared;
    const afterCreate = Math.max(0, Math.round(seen - created));
    figures.push(`update latency: visible ${afterCreate} ms after kubectl create returned (${Math.round(seen - t0)} ms after it started)`);
    assert.ok(afterCreate <= 1000, `shown ${afterCreate} ms after kubectl create returned`);
    assert.match((await page.$eval('#changes', (p) => p.textContent)) ?? '', /Service default\/dash-new added/);
    await shot('2-new-service');
  });

  test('traffic from a node moves the Service\'s counter', async () => {
    const packets = () => page.$eval('tr[data-service="default/service-clusterip"] td.traffic', (td) => Number(td.getAttribute('data-packets')));
    const before = await packets();
    const r = await onNode(cluster!.dataDir, ['sh', '-c', 'for i in 1 2 3 4 5; do curl -s -m 2 http://10.97.1.1/ >/dev/null; done']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the traffic counter to move', async () => (await packets()) > before, 10_000);
    const text = await page.$eval('tr[data-service="default/service-clusterip"] td.traffic', (td) => td.textContent);
    assert.match(text ?? '', /10\.244\.\d+\.\d+:\d+ via node-1: \d+ packets/);
    await shot('3-counters');
  });

  test('a Service\'s rules on a node, and a DNS query seen', async () => {
    await page.click('tr[data-service="default/service-clusterip"] button');
    await waitFor('the rules', async () => ((await page.$eval('#rules-output', (p) => p.textContent)) ?? '').includes('default/service-clusterip'), 10_000);
    const rules = (await page.$eval('#rules-output', (p) => p.textContent)) ?? '';
    assert.match(rules, /KUBE-SVC-[A-Z0-9]+/, rules);
    assert.match(rules, /KUBE-SEP-[A-Z0-9]+/, rules);
    const d = await onNode(cluster!.dataDir, ['dig', '@10.96.0.10', '+short', 'service-multiport.default.svc.cluster.local']);
    assert.equal(d.code, 0, d.stderr);
    await waitFor('the DNS query listed', async () => ((await page.$eval('#dns-body', (b) => b.textContent)) ?? '').includes('service-multiport.default.svc.cluster.local'), 10_000);
    await shot('4-rules-dns');
  });

  test('a trace run from the page', async () => {
    await page.type('#trace-target', 'service-clusterip');
    await page.click('#trace-form button[type=submit]');
    await page.waitForSelector('#trace-outcome[data-result]', { timeout: 30_000 });
    const outcome = (await page.$eval('#trace-outcome', (p) => p.textContent)) ?? '';
    assert.match(outcome, /^delivered: /, outcome);
    assert.match(outcome, /DNAT to 10\.244\.\d+\.\d+:80 \(default\/service-env-/);
    assert.ok((await page.$$('#trace-body tr')).length > 0);
    await shot('5-trace');
    // The same request from another origin is refused, even with the cookie.
    const cookie = (await page.cookies()).find((x) => x.name === 'kubesvc-dashboard')!;
    const cross = await fetch(`${base}/api/trace`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: `${cookie.name}=${cookie.value}`, Origin: 'http://evil.example' },
      body: '{"target":"service-clusterip"}',
    });
    assert.equal(cross.status, 403);
  });
});
