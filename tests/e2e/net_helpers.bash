# Shared by the tests that talk to containers over their network.

# An HTTP counter in memory (the seed's stateful web app): each request
# answers the next number. nc serves one request at a time.
HTTP_COUNTER='i=0; while true; do i=$((i+1)); printf "HTTP/1.0 200 OK\r\nContent-Length: ${#i}\r\n\r\n$i" | nc -l -p 80 >/dev/null; done'

# A line counter for a held TCP connection: "N LINE" for the Nth line.
# (its fifo on /dev/shm: an archive carries no fifo in the file changes)
LINE_COUNTER='mkfifo /dev/shm/f; i=0; while read l; do i=$((i+1)); echo "$i $l"; done < /dev/shm/f | nc -l -p 7000 > /dev/shm/f'

ip_of() { "$@" inspect --format '{{.NetworkSettings.IPAddress}}' web; }

# Asks url until the server answers (it may not listen yet), once.
fetch() { # url
    local i out
    for i in $(seq 50); do
        out=$(curl -s -m 2 "$1") && [ -n "$out" ] && { echo "$out"; return 0; }
        sleep 0.1
    done
    echo "no answer from $1" >&2
    return 1
}
