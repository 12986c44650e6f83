"""The office's decisions and their record (issue 8, point 3).

- `journal`: the append-only office journal (data/office/journal.jsonl) and `OfficeAction`;
- `decisions`: 强制上报 / 退回 / 审核锁定 / 重新开放, checked and journaled (`DecisionError`);
- `policy`: which rules may be explained (config/rules.yaml › explainable);
- `store`: explanations.csv imported into the journal; the journal copied into the warehouse;
- `read`: what the console and the report read (decisions, lock state, a return's versions and
  issues);
- `cli`: `jibao accept | send-back | close | reopen | decisions` (`add_commands(subparsers)`).

Light on purpose: importing the package imports nothing heavy (the CLI imports it to register
its commands).
"""
