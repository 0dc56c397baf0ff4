// The files the nginx image ships in /usr/share/nginx/html, as nginx's own
// packages install them. Pages changed to the dark-mode style in 1.21.1;
// older tags (the docs' nginx:1.14.2) get the older pages.

/** The version a tag without one ("latest", "stable-alpine") stands for. */
export const DEFAULT_NGINX_VERSION = '1.27.4';

const INDEX_HTML = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const ERROR_HTML = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
`;

const OLD_STYLE = `<style>
    body {
        width: 35em;
        margin: 0 auto;
        font-family: Tahoma, Verdana, Arial, sans-serif;
    }
</style>`;

const NEW_STYLE = `<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>`;

const OLD_INDEX_HTML = INDEX_HTML.replace(NEW_STYLE, OLD_STYLE);
const OLD_ERROR_HTML = ERROR_HTML.replace(NEW_STYLE, OLD_STYLE).replace('the error log for details.', 'the <a href="http://nginx.org/r/error_log">error log</a> for details.');

function isOld(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return major < 1 || (major === 1 && (minor < 21 || (minor === 21 && patch < 1)));
}

/** index.html and 50x.html for an nginx version ("1.23.1"). */
export function nginxPages(version: string): { 'index.html': string; '50x.html': string } {
  return isOld(version)
    ? { 'index.html': OLD_INDEX_HTML, '50x.html': OLD_ERROR_HTML }
    : { 'index.html': INDEX_HTML, '50x.html': ERROR_HTML };
}
