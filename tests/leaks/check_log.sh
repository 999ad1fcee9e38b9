#!/bin/sh
# check_log.sh VALGRIND_LOG - read a valgrind --leak-check=full log (made
# with --fullpath-after=) and fail if
#   - a definitely or indirectly lost block has a libclconv frame: a frame
#     in libclconv.so or in one of the library's sources (host/*.c);
#   - any other memcheck error (an uninitialised value, an invalid read...)
#     happened in libclconv code (its first frame is the library's).
# Lost blocks with no libclconv frame belong to the OpenCL runtime; those
# that do have one but are the runtime's own are in tests/valgrind.supp.
set -eu
log=$1
[ -s "$log" ] || { echo "check_log: no valgrind log at $log" >&2; exit 2; }
awk '
    function lib(s) { return s ~ /libclconv\.so|\/host\/[A-Za-z0-9_]+\.[ch]:[0-9]+\)/ }
    /are (definitely|indirectly) lost in loss record/ { rec = $0; kind = "leak"; next }
    /^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument)/ {
        rec = $0; kind = "error"; first = ""; next
    }
    kind != "" && /^==[0-9]+== *$/ {
        if ((kind == "leak" && lib(rec)) || (kind == "error" && lib(first))) {
            print rec "\n"; bad[kind]++
        }
        kind = ""; next
    }
    kind != "" { rec = rec "\n" $0; if (first == "") first = $0 }
    /definitely lost:|indirectly lost:|suppressed:|ERROR SUMMARY/ { summary = summary "\n" $0 }
    END {
        print "check_log: valgrind summary (the runtime'\''s own blocks and errors included):" summary
        if (bad["leak"] || bad["error"]) {
            printf "check_log: %d lost block(s) with a libclconv frame, %d error(s) in libclconv\n",
                   bad["leak"], bad["error"]
            exit 1
        }
        print "check_log: no lost block has a libclconv frame; no error in libclconv code"
    }' "$log"
