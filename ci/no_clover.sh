# Sourced by the stages that check for leaks (sanitize.sh, fuzz.sh, fault.sh): . ci/no_clover.sh DIR
# Mesa's Clover (mesa.icd) lists no device here, yet a block its gallium pipe allocates
# (pipe_swrast.so, unloaded before exit) reads as a leak of an unknown module, which no
# suppression can name: unless the caller chose the ICDs, load every one but Clover, from
# copies in DIR/icd.
if [ -z "${OCL_ICD_VENDORS:-}" ] && [ -e /etc/OpenCL/vendors/mesa.icd ]; then
    rm -rf "$1/icd" && mkdir -p "$1/icd"
    for f in /etc/OpenCL/vendors/*.icd; do [ "${f##*/}" = mesa.icd ] || cp "$f" "$1/icd/"; done
    export OCL_ICD_VENDORS=$1/icd
fi
