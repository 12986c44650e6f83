-- A copy of the outbox (data/outbox/outbox.sqlite3), recreated and reloaded at every warehouse
-- build (pipelines.warehouse.publish → pipelines.outbox.load_into_warehouse): the outbox is the
-- record of what was sent, kept outside the build; this table lets analysts query it beside the
-- ledger. One row per attempt. `create or replace`: nothing here is kept between builds.
create or replace table alert_deliveries (
    alert_id     varchar,
    delivery_key varchar,
    kind         varchar,
    quarter      varchar,
    submitter    varchar,
    channel      varchar check (channel in ('file', 'email', 'webhook')),
    fingerprint  varchar,
    recipient    varchar,
    message_id   varchar,
    subject      varchar,
    attempt      integer,
    created_at   timestamp,
    requested_by varchar,
    started_at   timestamp,
    sent_at      timestamp,
    status       varchar check (status in ('pending', 'sent', 'failed', 'unknown')),
    detail       varchar
);
comment on table alert_deliveries is '发送记录（发件箱 data/outbox/outbox.sqlite3 的副本，每次入库时重新载入）：每次向报送单位发送通知、催报或回复一行。Copy of the outbox, one row per delivery attempt (file, e-mail, webhook).';
comment on column alert_deliveries.alert_id is '发送尝试标识（发送标识-第几次）。Attempt id.';
comment on column alert_deliveries.delivery_key is '发送标识：同一内容在同一渠道只有一个。Delivery key (kind + channel + fingerprint).';
comment on column alert_deliveries.kind is '类别：alert 问题通知 / reminder 催报提醒 / reply 邮件回复 等。Kind of letter.';
comment on column alert_deliveries.quarter is '季度。Quarter.';
comment on column alert_deliveries.submitter is '报送单位。Submitter.';
comment on column alert_deliveries.channel is '发送渠道：file 文件 / email 邮件 / webhook 群机器人。Channel.';
comment on column alert_deliveries.fingerprint is '内容指纹，相同内容在同一渠道不重复发送。Content fingerprint (no duplicate sends).';
comment on column alert_deliveries.recipient is '接收方（邮箱、群机器人地址（不含密钥）或文件夹）。Recipient.';
comment on column alert_deliveries.message_id is '邮件 Message-ID（由发送标识生成，重发时不变）。Stable Message-ID of an e-mail.';
comment on column alert_deliveries.subject is '标题。Subject.';
comment on column alert_deliveries.attempt is '第几次发送。Attempt number.';
comment on column alert_deliveries.created_at is '首次登记发送意向的时间。When the intent was first recorded.';
comment on column alert_deliveries.requested_by is '发起发送者（运行或办公室人员）。Who asked for this attempt.';
comment on column alert_deliveries.started_at is '本次发送开始时间。Attempt started at.';
comment on column alert_deliveries.sent_at is '本次发送结束时间（未结束则为开始时间）。Attempt finished at.';
comment on column alert_deliveries.status is 'pending 发送中 / sent 已发送 / failed 发送失败（下次重发） / unknown 结果不明（请核实）。Attempt status.';
comment on column alert_deliveries.detail is '发送结果说明。Detail of the outcome.';
