#include "listeners.h"
#include "tap.h"

/* Recorded on x86-64 (Linux 6.18): the kernel prints each address word as
 * the number it is in memory. */
#define TCP_HEAD "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define TCP6_HEAD "  sl  local_address                         remote_address                        st tx_queue\n"
/* 127.0.0.1:40000 listening, 0.0.0.0:2024 listening, 127.0.0.1:40000 <- a client (established) */
static const char tcp_lo[] = TCP_HEAD
	"   0: 0100007F:9C40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1\n"
	"   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 218 1\n"
	"   2: 0100007F:9C40 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 219 1\n";
/* 0.0.0.0:40000 listening, as sshd with GatewayPorts yes binds a forward */
static const char tcp_any[] = TCP_HEAD
	"   0: 00000000:9C40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1\n";
/* 192.0.2.10:40000 */
static const char tcp_host[] = TCP_HEAD
	"   0: 0A0200C0:9C40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1\n";
/* [::1]:40000 and [::]:40000 */
static const char tcp6_lo[] = TCP6_HEAD
	"   0: 00000000000000000000000001000000:9C40 00000000000000000000000000000000:0000 0A 00000000:00000000\n";
static const char tcp6_any[] = TCP6_HEAD
	"   0: 00000000000000000000000000000000:9C40 00000000000000000000000000000000:0000 0A 00000000:00000000\n";
/* [::ffff:127.0.0.1]:40000 */
static const char tcp6_mapped[] = TCP6_HEAD
	"   0: 0000000000000000FFFF00000100007F:9C40 00000000000000000000000000000000:0000 0A 00000000:00000000\n";

int main(void)
{
	char w[48] = "";
	ok(cm_listen_parse(tcp_lo, NULL, 40000, w) == CM_LISTEN_LOOPBACK, "127.0.0.1 only: loopback");
	ok(cm_listen_parse(tcp_lo, tcp6_lo, 40000, w) == CM_LISTEN_LOOPBACK, "127.0.0.1 and ::1: loopback");
	ok(cm_listen_parse(tcp_lo, NULL, 40001, w) == CM_LISTEN_NONE, "another port: none");
	ok(cm_listen_parse(TCP_HEAD, TCP6_HEAD, 40000, w) == CM_LISTEN_NONE, "empty tables: none");
	ok(cm_listen_parse(NULL, NULL, 40000, w) == CM_LISTEN_NONE, "no tables: none");
	ok(cm_listen_parse(tcp_lo, NULL, 2024, w) == CM_LISTEN_WIDER, "0.0.0.0:2024 is wider");
	is_str(w, "0.0.0.0", "named 0.0.0.0");
	ok(cm_listen_parse(tcp_any, NULL, 40000, w) == CM_LISTEN_WIDER, "a wildcard forward is wider");
	ok(cm_listen_parse(tcp_host, NULL, 40000, w) == CM_LISTEN_WIDER, "a host address is wider");
	is_str(w, "192.0.2.10", "named 192.0.2.10");
	ok(cm_listen_parse(tcp_lo, tcp6_any, 40000, w) == CM_LISTEN_WIDER, "loopback v4 but [::] too: wider");
	is_str(w, "::", "named ::");
	ok(cm_listen_parse(NULL, tcp6_mapped, 40000, w) == CM_LISTEN_LOOPBACK, "::ffff:127.0.0.1: loopback");
	ok(cm_listen_parse("garbage", "more\nlines without fields\n", 40000, w) == CM_LISTEN_NONE,
	   "unreadable lines: none");
	return done();
}
