#include "untrusted_entry.h"

#include <archive_entry.h>
#include <stdio.h>
#include <sys/stat.h>

int cm_untrusted_entry_tame(struct archive_entry *e, cm_setid_known_fn known, void *arg, char *msg,
			    size_t msglen)
{
	const char *name = archive_entry_pathname(e);
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFLNK:
		break;
	default:
		snprintf(msg, msglen, "%.200s: device nodes, fifos and sockets are not taken from an "
				      "archive (a container's devices come from its config)", name);
		return -1;
	}
	archive_entry_xattr_clear(e);
	archive_entry_acl_clear(e);
	archive_entry_set_fflags(e, 0, 0);
	mode_t perm = archive_entry_perm(e);
	if ((perm & (S_ISUID | S_ISGID)) && archive_entry_filetype(e) == AE_IFREG &&
	    !(known && known(name, perm, archive_entry_uid(e), archive_entry_gid(e), arg)))
		archive_entry_set_perm(e, perm & ~(mode_t)(S_ISUID | S_ISGID));
	return 0;
}
