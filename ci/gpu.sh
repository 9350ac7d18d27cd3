#!/usr/bin/env bash
# The whole lamina check on an OpenCL GPU, as one command, with a Markdown report:
#
#   bash ci/gpu.sh [REPORT]        REPORT: default $GPU_SH_REPORT, else gpu-report.md (in the
#                                  current directory); step logs go to BUILD/gpu-sh-logs/
#
#  1. checks the OpenCL ICD loader and the vendor ICDs (/etc/OpenCL/vendors, or $OCL_ICD_VENDORS),
#     naming what is missing; builds lamina if needed (ci/build.sh's commands, every core);
#  2. picks the first GPU that build/lamina-info lists and prints its properties (lamina-info's,
#     clinfo's and nvidia-smi's when they exist);
#  3. runs ctest on that device only (LAMINA_TEST_DEVICES and LAMINA_DEVICE), then test_ops again
#     with the GPU paths forced (LAMINA_CL_TREE=1 LAMINA_CL_ASYNC=1, a GPU's defaults anyway);
#  4. runs bench_core, bench_train, bench_cnn, bench_transformer (short settings) and one epoch
#     of train_mnist on it;
#  5. writes the report: device properties, a pass/fail table per test, the measured GFLOP/s
#     and GB/s beside the card's published FP32 peak and memory bandwidth (ci/gpu_peaks.tsv,
#     first row whose match string is in the device or board name, any case), step times.
# With no OpenCL GPU it does the same on POCL (the CPU OpenCL device; else on `cpu`) and says
# so loudly, on stdout and at the top of the report.
#
# Budget: 8 minutes on a current GPU, build included (GPU_SH_BUDGET, seconds). Every step runs
# under `timeout`, capped and cut to what is left of the budget, keeping a share for the steps
# after it; a failing or timed-out step is recorded and the rest still run. Exit 1 if any test
# or step failed or did not run, 0 otherwise (2 if GPU_SH_REQUIRE_GPU=1 and there was no GPU).
#
# The sanitizer jobs (label sanitizer) and fault_injection are left out by default: they
# build trees of their own (minutes each), pick their own devices (cpu, POCL) and would spend
# the budget before the device tests start (ctest runs them early). GPU_SH_ALL_TESTS=1 keeps them.
#
# Environment:
#   GPU_SH_BUILD=DIR      build directory (default build/)
#   GPU_SH_DEVICE=SPEC    the device to test instead of the first GPU (opencl:P:D)
#   GPU_SH_BUDGET=S       total time budget in seconds (480)
#   GPU_SH_QUICK=1        a few ctest tests only: for trying this script on a slow machine
#   GPU_SH_ALL_TESTS=1    the sanitizer and fault-injection jobs too
#   GPU_SH_REQUIRE_GPU=1  exit 2 when no GPU was found (after running on POCL all the same)
set -u
start_dir=$PWD
cd "$(dirname "$0")/.." || exit 1
root=$PWD
report=${1:-${GPU_SH_REPORT:-gpu-report.md}}
[[ $report = /* ]] || report=$start_dir/$report
build=${GPU_SH_BUILD:-build}
[[ $build = /* ]] || build=$root/$build
budget=${GPU_SH_BUDGET:-480}
deadline=$((SECONDS + budget))
jobs=$(nproc 2>/dev/null || echo 2)
logs=$build/gpu-sh-logs
peaks=$root/ci/gpu_peaks.tsv
failed=0
steps=()   # rows "name|result|seconds|log" for the report

say() { printf '%s\n' "$@"; }
loud() { say "" "!!!!!!!! $*" "!!!!!!!!" ""; }

# run_step NAME CAP RESERVE LOG CMD...: CMD under timeout, its output to LOG and stdout. The
# limit is CAP seconds, cut so RESERVE seconds stay for later steps; returns CMD's status.
run_step() {
    local name=$1 cap=$2 reserve=$3 log=$4 limit left t0 rc
    shift 4
    ((budget < 480)) && reserve=$((reserve * budget / 480))   # the shares assume 8 minutes
    left=$((deadline - SECONDS - reserve))
    limit=$((cap < left ? cap : left))
    if ((limit < 5)); then
        say "== $name: not run, the time budget is spent" | tee "$log"
        steps+=("$name|not run (budget)|0|$log")
        failed=1
        return 124
    fi
    say "== $name (limit ${limit}s): $*"
    t0=$SECONDS
    timeout -k 10 "$limit" "$@" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local result=pass
    if ((rc == 124 || rc == 137)); then result="timeout (${limit}s)"; elif ((rc != 0)); then result="fail (exit $rc)"; fi
    [[ $result = pass ]] || failed=1
    steps+=("$name|$result|$((SECONDS - t0))|$log")
    say "== $name: $result in $((SECONDS - t0))s"
    return "$rc"
}

mkdir -p "$(dirname "$report")"

# ---- 1. OpenCL runtime ------------------------------------------------------------------------
# ICD files name a driver library; GPU vendors' drivers are told apart from POCL by that name.
icd_dir=${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)   # /sbin is not on every user's PATH
icd_notes=()
gpu_icds=()   # vendors' GPU drivers
mesa_icds=()  # Mesa's, which drive some AMD and Intel GPUs
if $ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so\.1 '; then
    icd_notes+=("ICD loader: $($ldconfig -p | grep -m1 'libOpenCL\.so\.1 ' | sed 's/.*=> //')")
else
    icd_notes+=("ICD loader: MISSING (no libOpenCL.so.1): install ocl-icd-libopencl1 (Debian/Ubuntu) or ocl-icd (Fedora); lamina then has only its cpu device")
fi
shopt -s nullglob
icd_files=("$icd_dir"/*.icd)
[[ -f $icd_dir ]] && icd_files=("$icd_dir")   # OCL_ICD_VENDORS may name one file
shopt -u nullglob
for f in "${icd_files[@]}"; do
    lib=$(head -n1 "$f" | tr -d '[:space:]')
    found="NOT FOUND"
    if [[ $lib = /* ]]; then [[ -e $lib ]] && found=found
    elif $ldconfig -p 2>/dev/null | grep -qF "$lib "; then found=found
    else   # a full file name (libpocl.so.2.10.0) is in the loader's directories, not its cache
        for d in $($ldconfig -p 2>/dev/null | sed -n 's|.*=> \(.*\)/[^/]*$|\1|p' | sort -u) /usr/local/lib; do
            [[ -e $d/$lib ]] && { found=found; break; }
        done
    fi
    case $lib in
        *nvidia*) kind=NVIDIA ;;
        *amdocl* | *rocm* | *hsa*) kind="AMD (ROCm)" ;;
        *intelocl*) kind="Intel (CPU runtime)" ;;
        *igdrcl* | *intel*) kind=Intel ;;
        *MesaOpenCL*) kind="Mesa Clover (AMD/Gallium GPUs)" ;;
        *Rusticl*) kind="Mesa Rusticl (GPUs named in RUSTICL_ENABLE)" ;;
        *pocl*) kind="POCL (CPU)" ;;
        *) kind=other ;;
    esac
    icd_notes+=("$(basename "$f") -> $lib ($found): $kind")
    [[ $found = found ]] && case $kind in NVIDIA | AMD* | Intel) gpu_icds+=("$(basename "$f")") ;;
        Mesa*) mesa_icds+=("$(basename "$f")") ;; esac
done
((${#icd_files[@]})) || icd_notes+=("no ICD files in $icd_dir: no OpenCL driver at all")
if ((${#gpu_icds[@]} == 0)); then
    only=""
    ((${#mesa_icds[@]})) && only=" (only Mesa's: ${mesa_icds[*]})"
    icd_notes+=("no NVIDIA/AMD/Intel OpenCL driver (ICD) found in $icd_dir$only: install the vendor's OpenCL driver (nvidia-opencl-icd, mesa-opencl-icd/rocm-opencl-icd, intel-opencl-icd)")
fi
shopt -s nullglob
nodes=(/dev/nvidia[0-9]* /dev/dri/renderD* /dev/kf[d])
shopt -u nullglob
icd_notes+=("GPU device nodes: ${nodes[*]:-none (/dev/nvidia*, /dev/dri/renderD*, /dev/kfd)}")
say "== OpenCL runtime"
printf '   %s\n' "${icd_notes[@]}"

# ---- build ------------------------------------------------------------------------------------
mkdir -p "$build" && mkdir -p "$logs"
# ci/build.sh's two commands with every core (it builds with -j2); configured trees only rebuild.
# shellcheck disable=SC2016  # the script's own positional parameters
run_step build 300 200 "$logs/build.log" bash -c \
    '[[ -f $2/CMakeCache.txt ]] || cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release || exit; cmake --build "$2" -j"$3"' \
    _ "$root" "$build" "$jobs"
info=$build/lamina-info
if [[ ! -x $info ]]; then
    loud "no $info: the build failed, nothing to test (see $logs/build.log)"
fi

# ---- 2. the device ----------------------------------------------------------------------------
# lamina-info prints a block per device: "[i] NAME", then "    key   value" lines.
[[ -x $info ]] && timeout 120 "$info" >"$logs/lamina-info.txt" 2>&1
field_of() {   # field_of SPEC KEY: KEY's value in SPEC's block
    awk -v spec="$1" -v key="$2" '/^\[[0-9]+\]/ {s = ""} $1 == "spec" {s = $2}
        s == spec && $1 == key {sub(/^ *[a-z]+( [a-z]+)? +/, ""); print; exit}' "$logs/lamina-info.txt"
}
specs_of_type() {   # specs of the blocks whose type is $1
    awk -v t="$1" '$1 == "spec" {s = $2} $1 == "type" && $2 == t {print s}' "$logs/lamina-info.txt"
}
spec=${GPU_SH_DEVICE:-}
fallback=""
if [[ -z $spec && -s $logs/lamina-info.txt ]]; then
    spec=$(specs_of_type gpu | head -n1)
    if [[ -z $spec ]]; then
        for s in $(specs_of_type cpu) $(specs_of_type accelerator); do
            [[ $(field_of "$s" platform) = *Portable* ]] && { spec=$s; break; }
        done
        [[ -z $spec ]] && spec=$(specs_of_type cpu | head -n1)
        if [[ -n $spec ]]; then fallback="no OpenCL GPU found: ran on POCL $(field_of "$spec" name) ($spec) instead"
        else spec=cpu fallback="no OpenCL GPU found and no OpenCL device at all: ran on lamina's host cpu device instead"; fi
    fi
fi
spec=${spec:-cpu}
name=$(field_of "$spec" name)
name=${name:-$spec}
if [[ -n $fallback ]] && ((${#gpu_icds[@]} + ${#mesa_icds[@]})); then
    installed=("${gpu_icds[@]}" "${mesa_icds[@]}")
    icd_notes+=("GPU drivers are installed (${installed[*]}) but list no GPU: is there one, is its kernel driver loaded, can this user open /dev/dri/renderD* or /dev/nvidia*? (Rusticl lists only the drivers named in RUSTICL_ENABLE, e.g. radeonsi,iris)")
    say "   ${icd_notes[-1]}"
fi
[[ -n $fallback ]] && loud "$fallback"
say "== device $spec: $name"
awk -v spec="$spec" '/^\[[0-9]+\]/ {blk = $0; next} $1 == "spec" {p = ($2 == spec); if (p) print blk} p' \
    "$logs/lamina-info.txt" | tee "$logs/device.txt"
clinfo_txt=""
board=""
if [[ $spec = opencl:* ]] && command -v clinfo >/dev/null; then
    pd=${spec#opencl:}
    timeout 60 clinfo -d "$pd" >"$logs/clinfo.txt" 2>&1 && clinfo_txt=$logs/clinfo.txt
    board=$(grep -m1 -i 'board name' "$logs/clinfo.txt" 2>/dev/null | sed 's/.*[Nn]ame *//')
    head -n 40 "$logs/clinfo.txt"
fi
rm -f "$logs/nvidia-smi.txt"   # none from an earlier run in the report
if command -v nvidia-smi >/dev/null; then
    if timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit \
        --format=csv >"$logs/nvidia-smi.txt" 2>&1; then cat "$logs/nvidia-smi.txt"; else rm -f "$logs/nvidia-smi.txt"; fi
fi

# The published peak: the first row of gpu_peaks.tsv whose match string is in the device's name
# or its board name, ignoring case; a match ending in "$" must end the name.
peak_row=$(awk -F'\t' -v a="$name" -v b="$board" '
    function hit(n, m) {
        if (n == "") return 0
        if (m !~ /[$]$/) return index(n, m) > 0
        m = substr(m, 1, length(m) - 1)
        return length(n) >= length(m) && substr(n, length(n) - length(m) + 1) == m
    }
    BEGIN {a = tolower(a); b = tolower(b); sub(/ +$/, "", a); sub(/ +$/, "", b)}
    !/^#/ && NF >= 6 && $1 != "" && (hit(a, tolower($1)) || hit(b, tolower($1))) {print; exit}' "$peaks" 2>/dev/null)
peak_name=$(cut -f3 <<<"$peak_row")
peak_flops=$(cut -f4 <<<"$peak_row")
peak_bw=$(cut -f5 <<<"$peak_row")
peak_url=$(cut -f6 <<<"$peak_row")

# ---- 3. tests ---------------------------------------------------------------------------------
export LAMINA_TEST_DEVICES=$spec LAMINA_DEVICE=$spec
# The benches' kernel caches: warm on a second run (ctest's tests set their own).
export LAMINA_CACHE_DIR=$build/cache-gpu-sh/lamina POCL_CACHE_DIR=$build/cache-gpu-sh/pocl
mkdir -p "$LAMINA_CACHE_DIR" "$POCL_CACHE_DIR"
select=(-LE sanitizer -E '^fault_injection$')
[[ ${GPU_SH_ALL_TESTS:-0} = 1 ]] && select=()
[[ ${GPU_SH_QUICK:-0} = 1 ]] && select=(-R '^(lamina_info|lamina_info_selftest|tensors|misuse|errors|example_sequential|train_mnist_short)$')
ctest --test-dir "$build" -N "${select[@]}" 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: //p' >"$logs/ctest-list.txt"
# The benches and train_mnist after ctest keep 6 x 25 s of the budget for themselves.
run_step "ctest ($(wc -l <"$logs/ctest-list.txt") tests)" 100000 150 "$logs/ctest.log" \
    ctest --test-dir "$build" --output-on-failure --timeout 300 -j"$jobs" "${select[@]}"
run_step "test_ops, GPU paths" 150 125 "$logs/test_ops_gpu_paths.log" \
    env LAMINA_CL_TREE=1 LAMINA_CL_ASYNC=1 "$build/tests/test_ops"

# ---- 4. benches and training ------------------------------------------------------------------
run_step bench_core 60 100 "$logs/bench_core.log" "$build/bench/bench_core" --reps 3
run_step bench_train 30 75 "$logs/bench_train.log" "$build/bench/bench_train" --no-torch --reps 10
run_step bench_cnn 90 50 "$logs/bench_cnn.log" "$build/bench/bench_cnn" --devices "$spec" --no-torch --reps 2
run_step bench_transformer 90 25 "$logs/bench_transformer.log" \
    "$build/bench/bench_transformer" --device "$spec" --no-torch --reps 2
run_step "train_mnist, 1 epoch" 120 5 "$logs/train_mnist.log" "$build/examples/train_mnist" --device "$spec" --epochs 1

# ---- 5. the report ----------------------------------------------------------------------------
# Per-test results from ctest's progress lines ("3/80 Test #7: name ....   Passed  1.2 sec");
# a selected test without one did not run (the budget ran out, or ctest itself failed).
touch "$logs/ctest.log"
[[ -s $logs/ctest-list.txt ]] || echo "no-test-listed" >"$logs/ctest-list.txt"
awk 'FNR == NR {order[++n] = $1; next}
     /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
         line = $0; sub(/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: /, "", line)
         t = line; sub(/ .*/, "", t); rest = substr(line, length(t) + 1)
         sub(/^[ .]*/, "", rest); sub(/^\*\*\*/, "", rest)
         pending = ""
         if (rest ~ / [0-9.]+ sec$/) {tim[t] = rest; sub(/ sec$/, "", tim[t]); sub(/.* /, "", tim[t])
             sub(/ +[0-9.]+ sec$/, "", rest)}
         else pending = t   # a failure reason that runs onto the next lines; the time ends it
         sub(/  .*/, "", rest); res[t] = rest; next }
     pending != "" && / [0-9.]+ sec$/ {x = $0; sub(/ sec$/, "", x); sub(/.* /, "", x); tim[pending] = x; pending = ""}
     END {for (i = 1; i <= n; i++) {t = order[i]; print t "|" (t in res ? res[t] : "not run (budget)") "|" (t in tim ? tim[t] : "")}}' \
    "$logs/ctest-list.txt" "$logs/ctest.log" >"$logs/ctest-results.txt"
npass=$(grep -c '|Passed|' "$logs/ctest-results.txt")
nskip=$(grep -c '|Skipped|' "$logs/ctest-results.txt")
ntests=$(wc -l <"$logs/ctest-results.txt")
nbad=$((ntests - npass - nskip))
((nbad > 0)) && failed=1

frac() {   # frac VALUE PEAK: "12.3%" or "-"
    awk -v v="$1" -v p="$2" 'BEGIN {if (v + 0 > 0 && p + 0 > 0) printf "%.1f%%", 100 * v / p; else printf "-"}'
}
rate_rows() {   # the device's rows of bench_core: "case|rate|unit|ms"
    awk -v spec="$spec" 'length($0) > 26 {split(substr($0, 26), f, " ")
        if (f[1] == "lamina" && f[2] == spec) {c = substr($0, 1, 24); sub(/ +$/, "", c)
            if (f[3] == "failed") print c "|failed||"; else {ms = f[5]; sub(/\(/, "", ms); print c "|" f[3] "|" f[4] "|" ms}}}' \
        "$logs/bench_core.log" 2>/dev/null
}
best_conv=$(awk -v spec="$spec" '/^conv2d/ {on = 1; next} on && index($0, " " spec " ") && NF >= 7 && $(NF-4) + 0 > b {b = $(NF-4); l = $1}
    END {if (b) print b "|" l}' "$logs/bench_cnn.log" 2>/dev/null)

{
    say "# lamina on $name"
    say ""
    [[ -n $fallback ]] && say "> **$fallback**" && say ""
    commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)
    [[ -n $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]] && commit+=" with uncommitted changes"
    say "\`ci/gpu.sh\` on $(hostname), $(date -u '+%Y-%m-%d %H:%M UTC'), commit ${commit:-unknown}; device \`$spec\`;"
    say "build \`$build\`; $SECONDS s of a $budget s budget; logs in \`$logs\`."
    say ""
    say "**Tests: $npass passed, $nskip skipped, $nbad failed or not run, of $ntests** (\`ctest ${select[*]}\` on \`$spec\` only)."
    say ""
    say "## Steps"
    say ""
    say "| step | result | seconds |"
    say "|---|---|---|"
    for r in "${steps[@]}"; do IFS='|' read -r a b c _ <<<"$r"; say "| $a | $b | $c |"; done
    say ""
    say "## Device"
    say ""
    say '```'
    cat "$logs/device.txt"
    [[ -n $board ]] && say "    board name      $board"
    [[ -s $logs/nvidia-smi.txt ]] && cat "$logs/nvidia-smi.txt"
    say '```'
    say ""
    say "OpenCL runtime:"
    say ""
    printf -- '- %s\n' "${icd_notes[@]}"
    if [[ -n $clinfo_txt ]]; then
        say ""
        say "<details><summary>clinfo -d ${spec#opencl:}</summary>"
        say ""
        say '```'
        cat "$clinfo_txt"
        say '```'
        say "</details>"
    fi
    say ""
    say "## Throughput beside the published peak"
    say ""
    if [[ -n $peak_row ]]; then
        say "Peak: $peak_name, FP32 $peak_flops GFLOP/s, memory $peak_bw GB/s ([source]($peak_url); ci/gpu_peaks.tsv)."
    else
        say "Peak: no row of ci/gpu_peaks.tsv matches \"$name${board:+ / $board}\": add one to see the fractions."
    fi
    say ""
    say "| measurement | lamina | peak | of peak | time |"
    say "|---|---|---|---|---|"
    while IFS='|' read -r c r u ms; do
        p=$peak_bw
        [[ $u = GFLOP/s ]] && p=$peak_flops
        say "| bench_core $c | $r $u | ${p:--} | $(frac "$r" "$p") | ${ms:+$ms ms} |"
    done < <(rate_rows)
    if [[ -n $best_conv ]]; then
        say "| bench_cnn conv2d forward, best layer (${best_conv#*|}) | ${best_conv%|*} GFLOP/s | ${peak_flops:--} | $(frac "${best_conv%|*}" "$peak_flops") | |"
    fi
    say ""
    say "## Step times"
    say ""
    say "| workload | time |"
    say "|---|---|"
    awk -v spec="$spec" 'index($0, spec " ") == 1 && NF >= 5 {print "| bench_train MNIST MLP step (batch 128, SGD) | " $(NF-3) " ms |"
        print "| bench_train chapter MLP forward (2x20) | " $(NF-1) " us |"}' "$logs/bench_train.log" 2>/dev/null
    awk -v spec="$spec" '/^ResNet step/ {s = "mem"} /^training step/ {s = "steps"} /^conv2d/ {s = ""}
        s == "mem" && index($0, spec " ") == 1 {print "| bench_cnn ResNet step b128: peak pool | " $(NF-2) " MB (" $(NF-1) " allocations in steps 3..5) |"}
        s == "steps" && index($0, spec " ") == 1 {print "| bench_cnn LeNet training step (batch 64, Adam) | " $(NF-3) " ms |"
            print "| bench_cnn ResNet training step (batch 128, SGD) | " $(NF-1) " ms |"}' "$logs/bench_cnn.log" 2>/dev/null
    awk -v spec="$spec" 'length($0) > 31 {split(substr($0, 32), f, " "); if (f[1] != spec) next
        w = substr($0, 1, 30); sub(/ +$/, "", w); x = ""
        if (match($0, /[0-9]+ tokens\/s/)) x = " (" substr($0, RSTART, RLENGTH) ")"
        print "| bench_transformer " w " | " (f[2] == "failed" ? "failed" : f[2] " ms" x) " |"}' "$logs/bench_transformer.log" 2>/dev/null
    awk '/^epoch .*samples\/s/ {for (i = 2; i <= NF; i++) if ($i == "samples/s") sps = $(i-1); acc = $0; sub(/.*test acc /, "", acc); sub(/ .*/, "", acc)
        if (sps + 0 > 0) printf "| train_mnist MLP, 1 epoch (batch 32) | %.3f ms a step (%s samples/s), test acc %s |\n", 32000 / sps, sps, acc}' \
        "$logs/train_mnist.log" 2>/dev/null
    say ""
    say "## Tests on \`$spec\`"
    say ""
    say "| test | result | seconds |"
    say "|---|---|---|"
    while IFS='|' read -r t r s; do
        [[ $r = Passed ]] || r="**$r**"
        say "| $t | $r | $s |"
    done <"$logs/ctest-results.txt"
    if ((nbad)); then say "" "The failures' output: \`$logs/ctest.log\` (ctest --output-on-failure)."; fi
} >"$report.tmp" && mv "$report.tmp" "$report"

say "" "== report: $report"
say "== tests: $npass passed, $nskip skipped, $nbad failed or not run, of $ntests; $SECONDS s"
[[ -n $fallback ]] && loud "$fallback"
((failed)) && exit 1
[[ -n $fallback && ${GPU_SH_REQUIRE_GPU:-0} = 1 ]] && exit 2
exit 0
