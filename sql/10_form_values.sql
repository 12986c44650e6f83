-- GENERATED from pipelines/config/forms/*.yaml by `python -m pipelines.warehouse.schema`.
-- Do not edit by hand. 由表格定义自动生成，请勿手工修改。
-- form1_values … form4_values: one row per return version × row key, one column per
-- column id; each column's Chinese label is its column comment (see duckdb_columns()).

-- 表一 (form1), 附件4
create or replace view form1_values as
with source as (
    select v.submission_id, s.quarter, s.submitter, v.row_key, v.column_id, v.value
    from return_values as v
    join submissions as s on s.submission_id = v.submission_id
    where s.form = 'form1'
),
pivoted as (
    select
        submission_id,
        quarter,
        submitter,
        row_key,
        max(value) filter (where column_id = 'ent_small') as ent_small,
        max(value) filter (where column_id = 'ent_medium') as ent_medium,
        max(value) filter (where column_id = 'ent_large') as ent_large,
        max(value) filter (where column_id = 'ent_total') as ent_total,
        max(value) filter (where column_id = 'mgmt_body') as mgmt_body,
        max(value) filter (where column_id = 'resp_list') as resp_list,
        max(value) filter (where column_id = 'safety_staff') as safety_staff,
        max(value) filter (where column_id = 'three_lists') as three_lists,
        max(value) filter (where column_id = 'hazards_found') as hazards_found,
        max(value) filter (where column_id = 'hazards_fixed') as hazards_fixed,
        max(value) filter (where column_id = 'risk_red') as risk_red,
        max(value) filter (where column_id = 'risk_orange') as risk_orange,
        max(value) filter (where column_id = 'risk_yellow') as risk_yellow,
        max(value) filter (where column_id = 'risk_blue') as risk_blue,
        max(value) filter (where column_id = 'site_5s') as site_5s,
        max(value) filter (where column_id = 'six_signs') as six_signs,
        max(value) filter (where column_id = 'rescue_team') as rescue_team,
        max(value) filter (where column_id = 'std_reviewed') as std_reviewed,
        max(value) filter (where column_id = 'std_self') as std_self,
        max(value) filter (where column_id = 'std_total') as std_total,
        max(value) filter (where column_id = 'star_total') as star_total,
        max(value) filter (where column_id = 'star_5') as star_5,
        max(value) filter (where column_id = 'star_4') as star_4,
        max(value) filter (where column_id = 'star_3') as star_3,
        max(value) filter (where column_id = 'star_2') as star_2,
        max(value) filter (where column_id = 'star_1') as star_1
    from source
    group by submission_id, quarter, submitter, row_key
)
select * from pivoted;

comment on view form1_values is '表一（附件4）宽表：每个报表版本的每一行一条记录，每列一个列标识；列的中文含义见列注释或 form_columns。Wide view of form1: one row per return version and row key, one column per column id (all versions; filter on submissions.is_official or use official_values for official figures).';
comment on column form1_values.submission_id is '报表版本标识。Return version.';
comment on column form1_values.quarter is '季度。Quarter.';
comment on column form1_values.submitter is '报送单位。Submitter.';
comment on column form1_values.row_key is '行标识（form_rows.row_key）。Row key.';
comment on column form1_values.ent_small is '企业基数（家） › 小微企业｜家｜期末存量';
comment on column form1_values.ent_medium is '企业基数（家） › 中等企业｜家｜期末存量';
comment on column form1_values.ent_large is '企业基数（家） › 规上企业｜家｜期末存量';
comment on column form1_values.ent_total is '企业基数（家） › 总数｜家｜期末存量';
comment on column form1_values.mgmt_body is '落实全员安全生产责任制数量 › 依法依规设置安全生产管理机构（家）｜家｜2021年8月以来累计';
comment on column form1_values.resp_list is '落实全员安全生产责任制数量 › 建立全员责任制及其考核清单（家）｜家｜2021年8月以来累计';
comment on column form1_values.safety_staff is '落实全员安全生产责任制数量 › 依法依规配备专职安全生产管理人员（家）｜家｜2021年8月以来累计';
comment on column form1_values.three_lists is '落实全员安全生产责任制数量 › 健全三张清单 › 企业数量（家）｜家｜2021年8月以来累计';
comment on column form1_values.hazards_found is '落实全员安全生产责任制数量 › 健全三张清单 › 自查隐患数量（条）｜条｜本年度累计';
comment on column form1_values.hazards_fixed is '落实全员安全生产责任制数量 › 健全三张清单 › 整改隐患数量（条）｜条｜本年度累计';
comment on column form1_values.risk_red is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 红色（家）｜家｜2021年8月以来累计';
comment on column form1_values.risk_orange is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 橙色（家）｜家｜2021年8月以来累计';
comment on column form1_values.risk_yellow is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 黄色（家）｜家｜2021年8月以来累计';
comment on column form1_values.risk_blue is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 蓝色（家）｜家｜2021年8月以来累计';
comment on column form1_values.site_5s is '落实全员安全生产责任制数量 › 强化5S现场管理（家）｜家｜2021年8月以来累计';
comment on column form1_values.six_signs is '落实全员安全生产责任制数量 › 完善六有可视化警示标识（家）｜家｜2021年8月以来累计';
comment on column form1_values.rescue_team is '落实全员安全生产责任制数量 › 依法依规建立专兼职应急救援队伍（家）｜家｜2021年8月以来累计';
comment on column form1_values.std_reviewed is '创建提升数量（家） › 达标评审｜家｜2021年8月以来累计';
comment on column form1_values.std_self is '创建提升数量（家） › 自评企业｜家｜2021年8月以来累计';
comment on column form1_values.std_total is '创建提升数量（家） › 总数｜家｜2021年8月以来累计';
comment on column form1_values.star_total is '实施星级管理数量（家） › 总数｜家｜2024年4月以来累计';
comment on column form1_values.star_5 is '实施星级管理数量（家） › 五星企业｜家｜2024年4月以来累计';
comment on column form1_values.star_4 is '实施星级管理数量（家） › 四星企业｜家｜2024年4月以来累计';
comment on column form1_values.star_3 is '实施星级管理数量（家） › 三星企业｜家｜2024年4月以来累计';
comment on column form1_values.star_2 is '实施星级管理数量（家） › 二星企业｜家｜2024年4月以来累计';
comment on column form1_values.star_1 is '实施星级管理数量（家） › 一星企业｜家｜2024年4月以来累计';

-- 表二 (form2), 附件5
create or replace view form2_values as
with source as (
    select v.submission_id, s.quarter, s.submitter, v.row_key, v.column_id, v.value
    from return_values as v
    join submissions as s on s.submission_id = v.submission_id
    where s.form = 'form2'
),
pivoted as (
    select
        submission_id,
        quarter,
        submitter,
        row_key,
        max(value) filter (where column_id = 'top10_count') as top10_count,
        max(value) filter (where column_id = 'top100_large') as top100_large,
        max(value) filter (where column_id = 'top100_medium') as top100_medium,
        max(value) filter (where column_id = 'top100_small') as top100_small,
        max(value) filter (where column_id = 'review_large') as review_large,
        max(value) filter (where column_id = 'review_medium') as review_medium,
        max(value) filter (where column_id = 'review_small') as review_small,
        max(value) filter (where column_id = 'posts_party') as posts_party,
        max(value) filter (where column_id = 'posts_worker') as posts_worker,
        max(value) filter (where column_id = 'posts_youth') as posts_youth,
        max(value) filter (where column_id = 'posts_women') as posts_women,
        max(value) filter (where column_id = 'pub_letters') as pub_letters,
        max(value) filter (where column_id = 'pub_pledges') as pub_pledges,
        max(value) filter (where column_id = 'training_sessions') as training_sessions,
        max(value) filter (where column_id = 'training_units') as training_units,
        max(value) filter (where column_id = 'training_people') as training_people,
        max(value) filter (where column_id = 'visit_sessions') as visit_sessions,
        max(value) filter (where column_id = 'visit_units') as visit_units,
        max(value) filter (where column_id = 'visit_people') as visit_people
    from source
    group by submission_id, quarter, submitter, row_key
)
select * from pivoted;

comment on view form2_values is '表二（附件5）宽表：每个报表版本的每一行一条记录，每列一个列标识；列的中文含义见列注释或 form_columns。Wide view of form2: one row per return version and row key, one column per column id (all versions; filter on submissions.is_official or use official_values for official figures).';
comment on column form2_values.submission_id is '报表版本标识。Return version.';
comment on column form2_values.quarter is '季度。Quarter.';
comment on column form2_values.submitter is '报送单位。Submitter.';
comment on column form2_values.row_key is '行标识（form_rows.row_key）。Row key.';
comment on column form2_values.top10_count is '十佳乡镇（街道、园区）案例 › 数量（个）｜个｜本年度累计';
comment on column form2_values.top100_large is '百优企业案例（个） › 规上企业｜个｜本年度累计';
comment on column form2_values.top100_medium is '百优企业案例（个） › 中等企业｜个｜本年度累计';
comment on column form2_values.top100_small is '百优企业案例（个） › 小微企业｜个｜本年度累计';
comment on column form2_values.review_large is '千企达标评审（家） › 规上企业｜家｜本年度累计';
comment on column form2_values.review_medium is '千企达标评审（家） › 中等企业｜家｜本年度累计';
comment on column form2_values.review_small is '千企达标评审（家） › 小微企业｜家｜本年度累计';
comment on column form2_values.posts_party is '万岗达标（个） › 党员模范岗（个）｜个｜本年度累计';
comment on column form2_values.posts_worker is '万岗达标（个） › 工人先锋岗（个）｜个｜本年度累计';
comment on column form2_values.posts_youth is '万岗达标（个） › 青年突击手（个）｜个｜本年度累计';
comment on column form2_values.posts_women is '万岗达标（个） › 巾帼能手（个）｜个｜本年度累计';
comment on column form2_values.pub_letters is '宣传发动 › 函告企业数（家）｜家｜本年度累计';
comment on column form2_values.pub_pledges is '宣传发动 › 签订承诺书企业数（家）｜家｜本年度累计';
comment on column form2_values.training_sessions is '宣传发动 › 专题培训 › 场次｜场次｜本年度累计';
comment on column form2_values.training_units is '宣传发动 › 专题培训 › 参训企业（家次）｜家次｜本年度累计';
comment on column form2_values.training_people is '宣传发动 › 专题培训 › 参训人数（人次）｜人次｜本年度累计';
comment on column form2_values.visit_sessions is '宣传发动 › 现场观摩 › 场次｜场次｜本年度累计';
comment on column form2_values.visit_units is '宣传发动 › 现场观摩 › 参加企业（家次）｜家次｜本年度累计';
comment on column form2_values.visit_people is '宣传发动 › 现场观摩 › 参加人数（人次）｜人次｜本年度累计';

-- 表三 (form3), 附件6
create or replace view form3_values as
with source as (
    select v.submission_id, s.quarter, s.submitter, v.row_key, v.column_id, v.value
    from return_values as v
    join submissions as s on s.submission_id = v.submission_id
    where s.form = 'form3'
),
pivoted as (
    select
        submission_id,
        quarter,
        submitter,
        row_key,
        max(value) filter (where column_id = 'inspected') as inspected,
        max(value) filter (where column_id = 'hazards_inspect_found') as hazards_inspect_found,
        max(value) filter (where column_id = 'hazards_urged_fixed') as hazards_urged_fixed,
        max(value) filter (where column_id = 'penalty_units') as penalty_units,
        max(value) filter (where column_id = 'penalty_hazards') as penalty_hazards,
        max(value) filter (where column_id = 'penalty_hazards_fixed') as penalty_hazards_fixed,
        max(value) filter (where column_id = 'fine_units') as fine_units,
        max(value) filter (where column_id = 'fine_amount') as fine_amount,
        max(value) filter (where column_id = 'suspended') as suspended,
        max(value) filter (where column_id = 'licence_revoked') as licence_revoked,
        max(value) filter (where column_id = 'closed') as closed,
        max(value) filter (where column_id = 'judicial') as judicial,
        max(value) filter (where column_id = 'exposed') as exposed,
        max(value) filter (where column_id = 'warned') as warned,
        max(value) filter (where column_id = 'incentives') as incentives,
        max(value) filter (where column_id = 'constraints') as constraints
    from source
    group by submission_id, quarter, submitter, row_key
)
select * from pivoted;

comment on view form3_values is '表三（附件6）宽表：每个报表版本的每一行一条记录，每列一个列标识；列的中文含义见列注释或 form_columns。Wide view of form3: one row per return version and row key, one column per column id (all versions; filter on submissions.is_official or use official_values for official figures).';
comment on column form3_values.submission_id is '报表版本标识。Return version.';
comment on column form3_values.quarter is '季度。Quarter.';
comment on column form3_values.submitter is '报送单位。Submitter.';
comment on column form3_values.row_key is '行标识（form_rows.row_key）。Row key.';
comment on column form3_values.inspected is '执法激励约束 › 检查企业（家次）｜家次｜本年度累计';
comment on column form3_values.hazards_inspect_found is '执法激励约束 › 发现隐患（条）｜条｜本年度累计';
comment on column form3_values.hazards_urged_fixed is '执法激励约束 › 督促整改隐患（条）｜条｜本年度累计';
comment on column form3_values.penalty_units is '执法激励约束 › 行政处罚 › 企业数量（家次）｜家次｜本年度累计';
comment on column form3_values.penalty_hazards is '执法激励约束 › 行政处罚 › 隐患数量（条）｜条｜本年度累计';
comment on column form3_values.penalty_hazards_fixed is '执法激励约束 › 行政处罚 › 隐患整改数量（条）｜条｜本年度累计';
comment on column form3_values.fine_units is '执法激励约束 › 行政处罚 › 罚款 › 企业数量（家次）｜家次｜本年度累计';
comment on column form3_values.fine_amount is '执法激励约束 › 行政处罚 › 罚款 › 金额（万元）｜万元｜本年度累计';
comment on column form3_values.suspended is '执法激励约束 › 责令停产停业整顿（家次）｜家次｜本年度累计';
comment on column form3_values.licence_revoked is '执法激励约束 › 暂扣或吊销证照（家次）｜家次｜本年度累计';
comment on column form3_values.closed is '执法激励约束 › 取缔关闭（家次）｜家次｜本年度累计';
comment on column form3_values.judicial is '执法激励约束 › 移送司法机关（人次）｜人次｜本年度累计';
comment on column form3_values.exposed is '执法激励约束 › 曝光典型案例（家次）｜家次｜本年度累计';
comment on column form3_values.warned is '执法激励约束 › 约谈警示（家次）｜家次｜本年度累计';
comment on column form3_values.incentives is '执法激励约束 › 激励（家次）｜家次｜本年度累计';
comment on column form3_values.constraints is '执法激励约束 › 约束（家次）｜家次｜本年度累计';

-- 表四 (form4), 附件7
create or replace view form4_values as
with source as (
    select v.submission_id, s.quarter, s.submitter, v.row_key, v.column_id, v.value
    from return_values as v
    join submissions as s on s.submission_id = v.submission_id
    where s.form = 'form4'
),
pivoted as (
    select
        submission_id,
        quarter,
        submitter,
        row_key,
        max(value) filter (where column_id = 'venues_base') as venues_base,
        max(value) filter (where column_id = 'three_lists') as three_lists,
        max(value) filter (where column_id = 'hazards_found') as hazards_found,
        max(value) filter (where column_id = 'hazards_fixed') as hazards_fixed,
        max(value) filter (where column_id = 'risk_red') as risk_red,
        max(value) filter (where column_id = 'risk_orange') as risk_orange,
        max(value) filter (where column_id = 'risk_yellow') as risk_yellow,
        max(value) filter (where column_id = 'risk_blue') as risk_blue,
        max(value) filter (where column_id = 'site_5s') as site_5s,
        max(value) filter (where column_id = 'six_signs') as six_signs,
        max(value) filter (where column_id = 'std_reviewed') as std_reviewed,
        max(value) filter (where column_id = 'std_self') as std_self,
        max(value) filter (where column_id = 'excellent_cases') as excellent_cases,
        max(value) filter (where column_id = 'inspected') as inspected,
        max(value) filter (where column_id = 'hazards_inspect_found') as hazards_inspect_found,
        max(value) filter (where column_id = 'hazards_urged_fixed') as hazards_urged_fixed,
        max(value) filter (where column_id = 'penalty_units') as penalty_units,
        max(value) filter (where column_id = 'penalty_hazards') as penalty_hazards,
        max(value) filter (where column_id = 'penalty_hazards_fixed') as penalty_hazards_fixed,
        max(value) filter (where column_id = 'fine_units') as fine_units,
        max(value) filter (where column_id = 'fine_amount') as fine_amount,
        max(value) filter (where column_id = 'suspended') as suspended,
        max(value) filter (where column_id = 'licence_revoked') as licence_revoked,
        max(value) filter (where column_id = 'closed') as closed,
        max(value) filter (where column_id = 'judicial') as judicial,
        max(value) filter (where column_id = 'exposed') as exposed,
        max(value) filter (where column_id = 'warned') as warned,
        max(value) filter (where column_id = 'incentives') as incentives,
        max(value) filter (where column_id = 'constraints') as constraints,
        max(value) filter (where column_id = 'pub_letters') as pub_letters,
        max(value) filter (where column_id = 'pub_pledges') as pub_pledges,
        max(value) filter (where column_id = 'training_units') as training_units,
        max(value) filter (where column_id = 'training_people') as training_people,
        max(value) filter (where column_id = 'visit_units') as visit_units,
        max(value) filter (where column_id = 'visit_people') as visit_people
    from source
    group by submission_id, quarter, submitter, row_key
)
select * from pivoted;

comment on view form4_values is '表四（附件7）宽表：每个报表版本的每一行一条记录，每列一个列标识；列的中文含义见列注释或 form_columns。Wide view of form4: one row per return version and row key, one column per column id (all versions; filter on submissions.is_official or use official_values for official figures).';
comment on column form4_values.submission_id is '报表版本标识。Return version.';
comment on column form4_values.quarter is '季度。Quarter.';
comment on column form4_values.submitter is '报送单位。Submitter.';
comment on column form4_values.row_key is '行标识（form_rows.row_key）。Row key.';
comment on column form4_values.venues_base is '九小场所底数（家）｜家｜期末存量';
comment on column form4_values.three_lists is '落实全员安全生产责任制数量 › 健全三张清单 › 场所数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.hazards_found is '落实全员安全生产责任制数量 › 健全三张清单 › 自查隐患数量（条）｜条｜本年度累计';
comment on column form4_values.hazards_fixed is '落实全员安全生产责任制数量 › 健全三张清单 › 整改隐患数量（条）｜条｜本年度累计';
comment on column form4_values.risk_red is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 红色风险数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.risk_orange is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 橙色风险数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.risk_yellow is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 黄色风险数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.risk_blue is '落实全员安全生产责任制数量 › 四色安全风险分级管控 › 蓝色风险数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.site_5s is '落实全员安全生产责任制数量 › 强化5S现场管理（家）｜家｜2024年2月以来累计';
comment on column form4_values.six_signs is '落实全员安全生产责任制数量 › 完善六有可视化警示标识（家）｜家｜2024年2月以来累计';
comment on column form4_values.std_reviewed is '创建标准化 › 评审达标（不分级）九小场所数量（家）｜家｜2024年2月以来累计';
comment on column form4_values.std_self is '创建标准化 › 自评达标九小场所数量（家）｜家｜本年度累计';
comment on column form4_values.excellent_cases is '创建标准化 › 九小场所优秀案例（家次）｜家次｜本年度累计';
comment on column form4_values.inspected is '执法激励约束 › 检查场所（家次）｜家次｜本年度累计';
comment on column form4_values.hazards_inspect_found is '执法激励约束 › 发现隐患（条）｜条｜本年度累计';
comment on column form4_values.hazards_urged_fixed is '执法激励约束 › 督促整改隐患（条）｜条｜本年度累计';
comment on column form4_values.penalty_units is '执法激励约束 › 行政处罚 › 场所数量（家次）｜家次｜本年度累计';
comment on column form4_values.penalty_hazards is '执法激励约束 › 行政处罚 › 隐患数量（条）｜条｜本年度累计';
comment on column form4_values.penalty_hazards_fixed is '执法激励约束 › 行政处罚 › 隐患整改数量（条）｜条｜本年度累计';
comment on column form4_values.fine_units is '执法激励约束 › 行政处罚 › 罚款 › 场所数量（家次）｜家次｜本年度累计';
comment on column form4_values.fine_amount is '执法激励约束 › 行政处罚 › 罚款 › 金额（万元）｜万元｜本年度累计';
comment on column form4_values.suspended is '执法激励约束 › 责令停产停业整顿（家次）｜家次｜本年度累计';
comment on column form4_values.licence_revoked is '执法激励约束 › 暂扣或吊销证照（家次）｜家次｜本年度累计';
comment on column form4_values.closed is '执法激励约束 › 取缔关闭（家次）｜家次｜本年度累计';
comment on column form4_values.judicial is '执法激励约束 › 移送司法机关（人次）｜人次｜本年度累计';
comment on column form4_values.exposed is '执法激励约束 › 曝光典型案例（家次）｜家次｜本年度累计';
comment on column form4_values.warned is '执法激励约束 › 约谈警示（家次）｜家次｜本年度累计';
comment on column form4_values.incentives is '执法激励约束 › 激励（家次）｜家次｜本年度累计';
comment on column form4_values.constraints is '执法激励约束 › 约束（家次）｜家次｜本年度累计';
comment on column form4_values.pub_letters is '宣传发动 › 函告场所数（家）｜家｜本年度累计';
comment on column form4_values.pub_pledges is '宣传发动 › 签订承诺书场所数（家）｜家｜本年度累计';
comment on column form4_values.training_units is '宣传发动 › 专题培训 › 参训九小场所（家次）｜家次｜本年度累计';
comment on column form4_values.training_people is '宣传发动 › 专题培训 › 参训人数（人次）｜人次｜本年度累计';
comment on column form4_values.visit_units is '宣传发动 › 现场观摩 › 参加九小场所（家次）｜家次｜本年度累计';
comment on column form4_values.visit_people is '宣传发动 › 现场观摩 › 参加人数（人次）｜人次｜本年度累计';
