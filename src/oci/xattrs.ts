// Extended attributes on unpacked layer files. Node has no xattr API, so
// they are set with `setfattr --restore` (Debian package attr), one run per
// layer with every attribute of it: overlayfs's opaque-directory marker
// (trusted.overlay.opaque=y, for .wh..wh..opq) and the attributes the
// layer's PAX headers carry (security.capability and the like).
import { execFile } from 'node:child_process';
import { writeFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** A path as getfattr --dump quotes it and setfattr --restore reads it back: backslash and control bytes as \ooo. */
function quotePath(path: string): string {
  return [...Buffer.from(path)].map((b) => (b === 0x5c || b < 0x20 || b === 0x7f ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b))).join('');
}

/** The lines `setfattr --restore` reads: "# file: PATH" then name=0s<base64> lines. */
export function restoreScript(attrs: Map<string, Record<string, Buffer>>): string {
  let out = '';
  for (const [path, values] of attrs) {
    out += `# file: ${quotePath(path)}\n`;
    for (const [name, value] of Object.entries(values)) out += `${name}=0s${value.toString('base64')}\n`;
    out += '\n';
  }
  return out;
}

/** Sets `attrs` (absolute paths); throws with setfattr's words when any could not be set. */
export async function setXattrs(attrs: Map<string, Record<string, Buffer>>): Promise<void> {
  if (attrs.size === 0) return;
  const dir = await mkdtemp(join(tmpdir(), 'kubesvc-xattr-'));
  const file = join(dir, 'restore');
  try {
    await writeFile(file, restoreScript(attrs), { mode: 0o600 });
    await new Promise<void>((resolve, reject) =>
      execFile('setfattr', ['-h', `--restore=${file}`], (err, _stdout, stderr) => {
        if (!err) return resolve();
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? 'setting extended attributes (overlayfs opaque directories, file capabilities) needs setfattr: install the Debian package attr' : `setfattr: ${stderr.trim() || err.message}`));
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
