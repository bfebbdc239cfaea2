#include "criu_conf.h"
#include "tap.h"

int main(void)
{
	ok(cm_criu_conf_page_server_local("network-lock nftables\naddress 127.0.0.1\n"), "address 127.0.0.1: loopback");
	ok(!cm_criu_conf_page_server_local("network-lock nftables\n"), "no address: every interface");
	ok(!cm_criu_conf_page_server_local("address 127.0.0.1\naddress 0.0.0.0\n"), "the last address wins, as in CRIU");
	ok(!cm_criu_conf_page_server_local("# address 127.0.0.1\n"), "a comment is no address");
	ok(!cm_criu_conf_page_server_local(NULL), "no file: every interface");
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
