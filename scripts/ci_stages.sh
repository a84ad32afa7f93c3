# Stage bookkeeping for .ci/run (sourced): `stage NAME COMMAND...` runs, times and records one stage;
# `finish_stages` prints the summary and returns 1 when any stage failed. A stage that exits with pytest's
# status 5 ("no tests collected") is a failure, reported as such: a stage that tests nothing never passes.
# Launch (what .ci/run does): . scripts/ci_stages.sh; stage tests bash scripts/test.sh; ...; finish_stages

_failed_stages=()
_stage_summary=()

stage() {
    local name=$1 start status
    shift
    echo "=== stage ${name}: $*"
    start=$(date +%s)
    "$@"
    status=$?
    if [ "$status" -eq 5 ]; then
        echo "=== stage ${name}: pytest collected no test (exit status 5): a stage that tests nothing fails"
    fi
    _stage_summary+=("${name}: exit ${status}, $(( $(date +%s) - start )) s")
    if [ "$status" -ne 0 ]; then
        _failed_stages+=("$name")
    fi
    return 0
}

finish_stages() {
    echo "=== CI summary"
    printf '  %s\n' "${_stage_summary[@]}"
    if [ "${#_failed_stages[@]}" -gt 0 ]; then
        echo "=== CI failed: ${_failed_stages[*]}"
        return 1
    fi
    echo "=== CI passed"
}
