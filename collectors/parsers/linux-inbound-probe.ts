/**
 * What "the host firewall is on" means on Linux, shared by the iptables and nftables
 * parsers: **a NEW inbound TCP connection from an arbitrary address to an arbitrary port of
 * this host, arriving on an ordinary (physical) interface, is dropped or rejected.**
 *
 * The parsers walk the ruleset with that one probe packet, in rule order, the way the
 * kernel would. A rule decides the probe only when every one of its matches holds for
 * *every* such connection; a rule that matches only some traffic — a source range, a
 * port, an interface, an ipset, a mark, a rate limit, established/related/invalid state,
 * anything the parser does not know — does not decide it (and its jump is not taken).
 * So these are NOT host firewalls, and read as `false`:
 *   - Tailscale's `ts-input` (drops only 100.64.0.0/10 arriving off tailscale0, i.e. spoofed);
 *   - Kubernetes' `KUBE-FIREWALL` (drops only martian traffic to 127.0.0.0/8, or marked packets);
 *   - fail2ban's per-IP `REJECT`s, or any blocklist of sources;
 *   - `INPUT` policy DROP preceded by an accept-everything rule;
 *   - Docker's NAT and forward chains (they are not on the input path).
 * And these are: a DROP/REJECT policy that the probe reaches (ufw, `iptables -P INPUT DROP`,
 * nftables `policy drop` on an input hook), or a final catch-all `REJECT` (firewalld,
 * RHEL's iptables-services), reached by the probe after the specific ACCEPTs.
 *
 * Only a proven drop is `true`: a ruleset this reading cannot follow gives `false` or
 * unknown, never a guess of protection (the fail-open direction).
 */

/** The probe's verdict after a chain: decided, or fell through (RETURN / end of chain). */
export type ProbeVerdict = 'accept' | 'drop' | 'continue' | 'queue';

/**
 * Interfaces arbitrary traffic from a network never arrives on: loopback, container and VM
 * bridges, overlay and VPN tunnels. `-i lo -j ACCEPT` does not accept the probe, and
 * `! -i tailscale0` holds for it.
 */
export const INTERNAL_INTERFACE = /^(lo|docker\d*|br-[0-9a-f]+|virbr\d*|vnet\d*|tailscale\d*|ts\d+|wg\d*|cni\d*|flannel\.?\d*|cali[0-9a-f]*|cilium_\w+|lxc\w*|lxdbr\d*|podman\d*|veth\w*|kube-\w+|vxlan\.\w+|weave|zt\w+|tun\d*|tap\d*|nebula\d*)\+?$/;

/** TCP flags of the probe's first packet. */
const PROBE_FLAGS = new Set(['SYN']);

/**
 * Whether a positive port match (`22`, `1024:65535`, `80,443`) covers an arbitrary port:
 * only when it spans more than half of the port space (an open range is not a filter).
 */
export function portsCoverArbitrary(spec: string): boolean {
  let covered = 0;
  for (const part of spec.split(',')) {
    const range = /^(\d*)[:-](\d*)$/.exec(part.trim());
    if (range) covered += Number(range[2] || 65535) - Number(range[1] || 0) + 1;
    else if (/^\d+$/.test(part.trim())) covered += 1;
    else return false; // a service name: specific
  }
  return covered > 32_768;
}

/** Whether `--tcp-flags MASK COMP` holds for a SYN (the probe). */
export function tcpFlagsMatchSyn(mask: string, comparison: string): boolean {
  const expand = (list: string) => (list === 'ALL' ? ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'] : list === 'NONE' ? [] : list.split(','));
  const masked = expand(mask).filter((flag) => PROBE_FLAGS.has(flag));
  const expected = expand(comparison);
  return masked.length === expected.length && expected.every((flag) => masked.includes(flag));
}

/** Whether a conntrack state list (`NEW,ESTABLISHED`, lower or upper case) includes the probe's state, NEW. */
export function statesIncludeNew(list: string): boolean {
  return list.split(',').some((state) => state.trim().toUpperCase() === 'NEW');
}

/** Whether an address match is "any address" (0.0.0.0/0, ::/0). */
export function isAnyAddress(spec: string): boolean {
  return /^(0\.0\.0\.0\/0|::\/0|0\/0)$/.test(spec.trim());
}
