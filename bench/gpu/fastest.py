"""fastest.py reads stepbench's JSON and prints, per workload and cell, the
fastest kernel variants (forward / backward / weight gradients) by the kernels' time and by a
whole training step with per-network batches made on the device (StepTask),
with the default variants' times beside them: what a GPU session needs to
decide the defaults (DEGEN_MMA, DEGEN_BACKWARD)."""
import json
import sys


def main(path):
    results = json.load(open(path))
    groups = {}
    for r in results:
        groups.setdefault((r["name"], r["cell"]), []).append(r)
    print("%-4s %-7s %-26s %-28s %-28s" % ("work", "cell", "default kernels / task", "fastest kernels", "fastest task step"))
    for (name, cell), rs in groups.items():
        # Files from before the "default" field: the defaults were fp32/split/fp32.
        default = next((r for r in rs if r.get("default")), None) or next(
            (r for r in rs if "default" not in r and r["forward"] == "fp32" and r["backward"] == "split"
             and r.get("grad", "fp32") == "fp32"), None)
        by_kernels = min(rs, key=lambda r: r["shared_batch"]["kernels_ms"])
        by_task = min(rs, key=lambda r: r["per_network_on_device"]["step_task_ms"])

        def cell_text(r, ms):
            return "%s/%s/%s %.2f ms" % (r["forward"], r["backward"], r.get("grad", "?"), ms)

        d = "-" if default is None else "%.2f / %.2f ms" % (
            default["shared_batch"]["kernels_ms"], default["per_network_on_device"]["step_task_ms"])
        print("%-4s %-7s %-26s %-28s %-28s" % (name, cell, d,
                                               cell_text(by_kernels, by_kernels["shared_batch"]["kernels_ms"]),
                                               cell_text(by_task, by_task["per_network_on_device"]["step_task_ms"])))


if __name__ == "__main__":
    main(sys.argv[1])
