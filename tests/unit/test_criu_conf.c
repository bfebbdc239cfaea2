#include "criu_conf.h"
#include "tap.h"

int main(void)
{
	is_str(cm_criu_conf_parse_network_lock(NULL), "iptables", "no file: CRIU's default");
	is_str(cm_criu_conf_parse_network_lock(""), "iptables", "empty file: CRIU's default");
	is_str(cm_criu_conf_parse_network_lock("# network-lock nftables\n"), "iptables",
	       "a comment sets nothing");
	is_str(cm_criu_conf_parse_network_lock("# ctrmig\nnetwork-lock nftables\n"), "nftables",
	       "the line ctrmig writes");
	is_str(cm_criu_conf_parse_network_lock("  network-lock\tskip  # no lock\n"), "skip",
	       "blanks and a trailing comment");
	is_str(cm_criu_conf_parse_network_lock("network-lock nftables\nnetwork-lock iptables"),
	       "iptables", "the last setting wins");
	is_str(cm_criu_conf_parse_network_lock("network-locks nftables\ntcp-established\n"),
	       "iptables", "other options are not the lock");
	is_str(cm_criu_conf_parse_network_lock("network-lock bogus\n"), "iptables",
	       "an unknown method is not reported as one");
	return done();
}
