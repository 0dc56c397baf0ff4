// `kubesvc images`: the node image store of a data dir (<data dir>/images),
// as crictl and ctr show and fill it: load a `docker save` or OCI archive,
// list (crictl images' columns), remove, pull.
import { ArchiveError, loadArchive } from '../oci/archive.js';
import { ImageNotFoundError, ImageStore, type ImageRecord } from '../oci/image-store.js';
import { ImagePullError } from '../oci/puller.js';
import { InvalidImageNameError } from '../oci/reference.js';
import { parseFlags, UsageError } from './args.js';
import { readImageSettings } from './image-settings.js';

export const imagesUsage = `Usage: kubesvc images <command> [--data-dir .kubesvc]

Commands:
  load FILE [--base-name NAME]   load a docker save tarball or an OCI image archive (plain or gzip)
  ls [-q]                        list the images: IMAGE, TAG, IMAGE ID, SIZE (as crictl images)
  rm REF...                      remove images by reference or image ID (and what only they use)
  pull REF [--creds USER:PASS]   pull an image from its registry (HTTPS; plain HTTP for loopback registries)

The images live in <data dir>/images: blobs by digest, each layer unpacked once.`;

/** go-units' HumanSizeWithPrecision(size, 3): decimal units, Go's %.3g. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${goG3(size)}${units[i]}`;
}

/** Go's fmt %.3g: three significant digits, trailing zeros dropped, an exponent from 1e+03 on. */
function goG3(x: number): string {
  const [mantissa, exp] = x.toExponential(2).split('e') as [string, string];
  const e = Number(exp);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (e < -4 || e >= 3) return `${trim(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trim(x.toFixed(Math.max(0, 2 - e)));
}

/** Go's tabwriter as crictl sets it up (minwidth 20, padding 3): the last column unpadded. */
export function tabulate(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(20, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}

/** crictl images' rows: IMAGE, TAG (<none> for a digest reference), IMAGE ID (13 characters), SIZE. */
export function imageRows(images: ImageRecord[]): string[][] {
  return [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'], ...images.map((r) => [r.name, r.tag ?? '<none>', r.config.replace(/^sha256:/, '').slice(0, 13), humanSize(r.size)])];
}

function parseCreds(creds: string | undefined): { username: string; password: string } | undefined {
  if (creds === undefined) return undefined;
  const colon = creds.indexOf(':');
  if (colon <= 0) throw new UsageError('--creds must be USERNAME:PASSWORD');
  return { username: creds.slice(0, colon), password: creds.slice(colon + 1) };
}

/** The store's errors are the user's: their message, no stack. */
function userError(e: unknown): never {
  if (e instanceof ArchiveError || e instanceof ImageNotFoundError || e instanceof ImagePullError || e instanceof InvalidImageNameError) throw new UsageError(e.message);
  throw e;
}

export async function imagesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    'base-name': { type: 'string' },
    creds: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, ...args] = positionals;
  if (values.help || !sub) {
    console.log(imagesUsage);
    return;
  }
  const dataDir = values['data-dir'] ?? '.kubesvc';
  // Pulls go where the cluster's nodes' do: through `up --registry-mirror`s.
  const store = new ImageStore(dataDir, { mirrors: readImageSettings(dataDir).registryMirrors });
  try {
    switch (sub) {
      case 'load': {
        if (args.length !== 1) throw new UsageError('images load takes one archive: kubesvc images load FILE');
        const loaded = await loadArchive(store, args[0]!, { baseName: values['base-name'] });
        if (!loaded.length) throw new UsageError(`${args[0]} has no named image to load`);
        for (const r of loaded) console.log(`Loaded image: ${r.ref}`);
        return;
      }
      case 'ls':
      case 'list': {
        const images = store.list();
        console.log(values.quiet ? [...new Set(images.map((r) => r.config))].join('\n') : tabulate(imageRows(images)));
        return;
      }
      case 'rm':
      case 'rmi': {
        if (!args.length) throw new UsageError('images rm takes the references or image IDs to remove');
        for (const ref of args) for (const r of await store.remove(ref)) console.log(`Deleted: ${r.ref}`);
        return;
      }
      case 'pull': {
        if (args.length !== 1) throw new UsageError('images pull takes one reference: kubesvc images pull REF');
        const record = await store.pull(args[0]!, { policy: 'Always', credentials: parseCreds(values.creds) });
        console.log(`Image is up to date for ${record.config}`);
        return;
      }
      default:
        throw new UsageError(`unknown images command "${sub}"\n\n${imagesUsage}`);
    }
  } catch (e) {
    userError(e);
  }
}
