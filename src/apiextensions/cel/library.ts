// Every function library of the Kubernetes CEL environment, registered by
// importing it: the standard definitions, cel-go's strings extension, the
// Kubernetes lists/regex/URL/sets, quantity, IP/CIDR and format libraries.
import './stdlib.js';
import './strings.js';
import './kubernetes.js';
import './quantity.js';
import './ip.js';
import './format.js';
