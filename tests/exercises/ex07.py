"""Notebook 07's exercises (see tests/exercises/__init__.py)."""

from tests.exercises import exercise


@exercise("07-1", says="The numbers stay rung 6's, to float rounding (the cell would stop otherwise); only the time "
                       "changes.",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: rung 6+item: the same numbers as rung 6, to a relative 1e-06; 0.61 s for the epoch'))
def put_item_back(climb, ladder, ItemTally, torch):
    climb("6+item", "rung 6 with .item() back", {**ladder["6"]["parts"], "tally": ItemTally}, since="6")
    # check
    assert ladder["6+item"]["parts"]["tally"] is ItemTally and ladder["6"]["parts"]["tally"] is not ItemTally
    for key in ("train_loss", "train_error", "val_step", "val_loss", "val_error", "final_val_error"):
        assert torch.allclose(ladder["6+item"][key], ladder["6"][key], rtol=1e-6, atol=1e-6), key


@exercise("07-2", says="Among them are `aten::addmm`, the linear layer's forward pass, and `aten::mm`, its weight "
                       "gradient",
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: the table lists aten::addmm (202 calls) and aten::mm (200 calls) among the 15 '
          'operations'))
def where_the_time_goes(run, ladder, fresh_model):
    from torch.profiler import profile

    with profile() as profiler:
        run(ladder["6"]["parts"], fresh_model(), 200)
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    # check
    table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)
    assert "aten::addmm" in table and "aten::mm" in table, table


@exercise("07-3", says="Every number changes, and every rung still agrees with the rung it changes: the asserts hold "
                       "for another seed too.",
          parameters={"seed": 1},
          measured=("measured on the project's 2-core CPU VM (torch 2.14.1, real MNIST, seed 0 unless said), "
          '2026-12-03: seed 1: every rung asserted against the one it changes; rungs 0 to 10 all present'))
def another_seed(seed, ladder, json, artifacts):
    print(sorted(ladder), seed)
    # check
    assert seed == 1
    assert {"0", "1", "2", "3", "4", "5", "6", "8", "9"} <= set(ladder)  # climb() asserted each against the one before
    saved = json.loads((artifacts / "speed" / "ladder.json").read_text())
    assert saved["seed"] == 1 and saved["rungs"]["0"]["train_loss"] == ladder["0"]["train_loss"].tolist()
