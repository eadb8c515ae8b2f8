// SPDX-License-Identifier: GPL-2.0
/*
 * pumakey: put the PUMA TCP transport's pre-shared key into the kernel
 * keyring, for systems without keyutils (the rig's busybox initramfs).
 *
 *   pumakey [--type logon|user] DESC HEX
 *
 * adds a key of DESC (e.g. puma:psk, the transport's default key=) whose
 * bytes are HEX (16 to 64 bytes, as 32 to 128 hex digits) to the ".puma"
 * keyring, which puma.ko creates (the transport's connections are made
 * by kernel threads, which see no user's keyrings), and prints its
 * serial.  A logon key, the default, cannot be read back from user
 * space.  Same as:
 *
 *   keyctl padd logon DESC %:.puma < <(printf HEX | xxd -r -p)
 *
 * Exit status: 0, 1 on a kernel error, 2 on bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PSK_MIN			16
#define PSK_MAX			64

static int usage(void)
{
	fprintf(stderr, "usage: pumakey [--type logon|user] DESC HEX\n");
	return 2;
}

/* The serial of the ".puma" keyring, from /proc/keys; -1 if none. */
static long puma_keyring(void)
{
	char line[512], type[64], desc[256];
	FILE *f = fopen("/proc/keys", "r");
	unsigned long serial;
	long found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %63s %255s",
			   &serial, type, desc) == 3 &&
		    !strcmp(type, "keyring") && !strcmp(desc, ".puma:"))
			found = (long)serial;
	fclose(f);
	return found;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	unsigned char psk[PSK_MAX];
	const char *type = "logon";
	size_t len, i;
	long serial;
	int argi = 1;

	if (argc == 5 && !strcmp(argv[1], "--type")) {
		type = argv[2];
		argi = 3;
	}
	if (argc - argi != 2 ||
	    (strcmp(type, "logon") && strcmp(type, "user")))
		return usage();
	len = strlen(argv[argi + 1]);
	if (len % 2 || len / 2 < PSK_MIN || len / 2 > PSK_MAX) {
		fprintf(stderr, "pumakey: want %d to %d bytes of hex key\n",
			PSK_MIN, PSK_MAX);
		return 2;
	}
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(argv[argi + 1][2 * i]);
		int lo = hexval(argv[argi + 1][2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "pumakey: not hex: %s\n", argv[argi + 1]);
			return 2;
		}
		psk[i] = hi << 4 | lo;
	}
	serial = puma_keyring();
	if (serial < 0) {
		fprintf(stderr, "pumakey: no .puma keyring in /proc/keys (is puma.ko loaded?)\n");
		return 1;
	}
	serial = syscall(SYS_add_key, type, argv[argi], psk, len / 2, serial);
	memset(psk, 0, sizeof(psk));
	if (serial < 0) {
		fprintf(stderr, "pumakey: add_key %s %s: %s\n", type,
			argv[argi], strerror(errno));
		return 1;
	}
	printf("%ld\n", serial);
	return 0;
}
