-- Hand-written DuckDB reference for BorderWatch's nightly refresh: the limit the pipeline is compared with.
--
-- Covers the large facts only: marts.fct_deportations (Cambodian GDI bulletins matched with Thai
-- Immigration receptions) and marts.fct_telecom_actions (NBTC). Same input files, same rules as the dbt
-- models (staging → intermediate → marts) and as the Python loader (digit normalisation, Buddhist Era
-- dates, quarantine of unparseable rows, files deduplicated by sha256, latest delivery wins), written as
-- plain set-based SQL with no framework.
--
-- Run by benchmarks/reference.py, one statement block per "-- step:" marker, with these variables set:
--   kh_files, th_files (cp874 already transcoded to UTF-8 by the runner), nbtc_files: this night's files;
--   rtp_pages: the RTP API pages (live operations) for raid ids; seeds_dir: the repo's seeds/.
-- A step with "-- needs: <variable>" is skipped when that list is empty. State (raw rows, loaded files)
-- persists in the database file between nights; the marts are rebuilt from it each night.

-- step: setup
create schema if not exists ref;
create schema if not exists marts;
create table if not exists ref.files (feed varchar, file_name varchar, file_sha256 varchar, seq bigint);
create table if not exists ref.kh (
    file_sha256 varchar, seq bigint, row_number bigint, bulletin_no varchar, line_no integer,
    handover_date date, checkpoint varchar, province varchar, nationality varchar, male integer,
    female integer, total integer, destination_country varchar, remarks varchar
);
create table if not exists ref.th (
    file_sha256 varchar, seq bigint, row_number bigint, reception_no varchar, received_date date,
    checkpoint varchar, nationality varchar, male integer, female integer, total integer,
    from_country varchar, tm35_no varchar, remarks varchar
);
create table if not exists ref.nbtc (
    file_sha256 varchar, seq bigint, row_number bigint, month date, province varchar, action_type varchar,
    "count" bigint, reported_at timestamp
);
create table if not exists ref.raids (raid_id varchar);
create or replace macro ref.txt(x) as
    nullif(regexp_replace(replace(nfc_normalize(cast(x as varchar)), chr(160), ' '), '^\s+|\s+$', '', 'g'), '');
create or replace macro ref.digits(x) as
    translate(ref.txt(x), '๐๑๒๓๔๕๖๗๘๙០១២៣៤៥៦៧៨៩', '01234567890123456789');
create or replace macro ref.int(x) as
    try_cast(replace(replace(ref.digits(x), ',', ''), ' ', '') as bigint);
create or replace macro ref.bad(raw, parsed) as (ref.txt(raw) is not null and parsed is null);
create or replace macro ref.ce_year(y) as
    case when y between 2400 and 2700 then y - 543 when y between 1900 and 2200 then y end;
create or replace macro ref.dmy(x) as (
    with m as (select regexp_extract(ref.digits(x), '^(\d{1,2})/(\d{1,2})/(\d{4})$', ['d', 'mo', 'y']) as p)
    select case when cast(p.y as integer) between 1900 and 2200
        then try_cast(make_date(cast(p.y as integer), cast(p.mo as integer), cast(p.d as integer)) as date) end
    from m
);
create or replace macro ref.thai_month(name) as (
    select max(mo) from (values
        ('มค', 1), ('กพ', 2), ('มีค', 3), ('เมย', 4), ('พค', 5), ('มิย', 6), ('กค', 7), ('สค', 8), ('กย', 9),
        ('ตค', 10), ('พย', 11), ('ธค', 12), ('มกราคม', 1), ('กุมภาพันธ์', 2), ('มีนาคม', 3), ('เมษายน', 4),
        ('พฤษภาคม', 5), ('มิถุนายน', 6), ('กรกฎาคม', 7), ('สิงหาคม', 8), ('กันยายน', 9), ('ตุลาคม', 10),
        ('พฤศจิกายน', 11), ('ธันวาคม', 12)
    ) as months(key, mo)
    where months.key = replace(replace(name, '.', ''), ' ', '')
);
create or replace macro ref.thai_date(x) as (
    with m as (
        select regexp_extract(
            ref.digits(x),
            '^(\d{1,2})\s*([\x{0E00}-\x{0E7F}.\s]+?)\s*(?:พ\.?\s*ศ\.?\s*)?(\d{4,5})(?:\s+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*น\.?)?)?$',
            ['d', 'mo', 'y']
        ) as p
    )
    select try_cast(make_date(
        ref.ce_year(case when length(p.y) = 5 and p.y like '0%' then cast(p.y as integer)
                         when length(p.y) = 4 then cast(p.y as integer) end),
        ref.thai_month(p.mo),
        cast(p.d as integer)
    ) as date)
    from m
);
create or replace macro ref.year_month(x) as (
    with m as (select regexp_extract(ref.digits(x), '^(\d{4})-(\d{1,2})$', ['y', 'mo']) as p)
    select try_cast(make_date(ref.ce_year(cast(p.y as integer)), cast(p.mo as integer), 1) as date) from m
);
create or replace macro ref.label_key(x) as lower(trim(regexp_replace(cast(x as varchar), '\s+', ' ', 'g')));

-- step: seeds
create or replace table ref.nationality_keys as
select ref.label_key(label) as key, max(nationality_iso3) as iso3
from read_csv(getvariable('seeds_dir') || '/nationality_labels.csv', all_varchar = true)
group by 1;
create or replace table ref.place_keys as
select target_type, ref.label_key(alias) as key, max(target_id) as target_id
from read_csv(getvariable('seeds_dir') || '/place_aliases.csv', all_varchar = true)
where target_type in ('border_crossing', 'airport', 'admin1') and (target_type <> 'admin1' or target_id like 'TH-%')
group by 1, 2;

-- step: register_files
-- needs: all_files
create or replace temp table night_files as
with incoming as (
    select 'kh_gdi_deportations' as feed, unnest(getvariable('kh_files')) as path
    union all select 'th_imm_receptions', unnest(getvariable('th_files'))
    union all select 'nbtc_telecom', unnest(getvariable('nbtc_files'))
),
hashed as (
    select incoming.feed, incoming.path, parse_filename(incoming.path) as file_name, sha256(blob.content) as file_sha256
    from incoming
    inner join read_blob(getvariable('all_files')) as blob
        on blob.filename = incoming.path
),
fresh as (
    select *, row_number() over (partition by feed, file_sha256 order by file_name) as copy_no
    from hashed
    where not exists (
        select 1 from ref.files as f where f.feed = hashed.feed and f.file_sha256 = hashed.file_sha256
    )
)
select
    feed, path, file_name, file_sha256,
    (select coalesce(max(seq), 0) from ref.files) + row_number() over (order by feed, file_name) as seq,
from fresh
where copy_no = 1;
insert into ref.files select feed, file_name, file_sha256, seq from night_files;

-- step: load_kh
-- needs: kh_files
insert into ref.kh
with src as (
    select *, row_number() over (partition by filename) as row_number
    from read_csv(getvariable('kh_files'), header = true, all_varchar = true, filename = true, encoding = 'utf-8')
),
parsed as (
    select
        f.file_sha256, f.seq, src.row_number,
        ref.txt("Bulletin No") as bulletin_no,
        ref.int("Line") as line_no, "Line" as line_raw,
        ref.dmy("Date") as handover_date, "Date" as date_raw,
        ref.txt("Checkpoint") as checkpoint,
        ref.txt("Province") as province,
        ref.txt("Nationality") as nationality,
        ref.int("Male") as male, "Male" as male_raw,
        ref.int("Female") as female, "Female" as female_raw,
        ref.int("Total") as total, "Total" as total_raw,
        ref.txt("Destination") as destination_country,
        ref.txt("Remarks") as remarks,
    from src
    inner join night_files as f on f.path = src.filename
)
select file_sha256, seq, row_number, bulletin_no, line_no, handover_date, checkpoint, province, nationality,
    male, female, total, destination_country, remarks
from parsed
where bulletin_no is not null and line_no is not null and handover_date is not null and checkpoint is not null
    and nationality is not null and total is not null
    and not (ref.bad(line_raw, line_no) or ref.bad(date_raw, handover_date) or ref.bad(male_raw, male)
        or ref.bad(female_raw, female) or ref.bad(total_raw, total));

-- step: load_th
-- needs: th_files
insert into ref.th
with src as (
    select *, row_number() over (partition by filename) as row_number
    from read_csv(getvariable('th_files'), header = true, all_varchar = true, filename = true)
),
parsed as (
    select
        f.file_sha256, f.seq, src.row_number,
        ref.txt("เลขที่รับตัว") as reception_no,
        ref.thai_date("วันที่รับตัว") as received_date, "วันที่รับตัว" as date_raw,
        ref.txt("ด่านตรวจคนเข้าเมือง") as checkpoint,
        ref.txt("สัญชาติ") as nationality,
        ref.int("ชาย") as male, "ชาย" as male_raw,
        ref.int("หญิง") as female, "หญิง" as female_raw,
        ref.int("รวม") as total, "รวม" as total_raw,
        ref.txt("ส่งตัวจากประเทศ") as from_country,
        ref.txt("เลขที่ ตม.35") as tm35_no,
        ref.txt("หมายเหตุ") as remarks,
    from src
    inner join night_files as f on f.path = src.filename
)
select file_sha256, seq, row_number, reception_no, received_date, checkpoint, nationality, male, female, total,
    from_country, tm35_no, remarks
from parsed
where reception_no is not null and received_date is not null and checkpoint is not null
    and nationality is not null and total is not null
    and not (ref.bad(date_raw, received_date) or ref.bad(male_raw, male) or ref.bad(female_raw, female)
        or ref.bad(total_raw, total));

-- step: load_nbtc
-- needs: nbtc_files
insert into ref.nbtc
with src as (
    select *, row_number() over (partition by filename) as row_number
    from read_json(
        getvariable('nbtc_files'), format = 'newline_delimited', filename = true,
        columns = {month: 'VARCHAR', province: 'VARCHAR', action_type: 'VARCHAR', "count": 'VARCHAR',
                   reported_at: 'VARCHAR'}
    )
),
parsed as (
    select
        f.file_sha256, f.seq, src.row_number,
        ref.year_month(src.month) as month, src.month as month_raw,
        ref.txt(src.province) as province,
        ref.txt(src.action_type) as action_type,
        ref.int(src."count") as "count", src."count" as count_raw,
        timezone('UTC', try_cast(ref.digits(src.reported_at) as timestamptz)) as reported_at,
        src.reported_at as reported_raw,
    from src
    inner join night_files as f on f.path = src.filename
)
select file_sha256, seq, row_number, month, province, action_type, "count", reported_at
from parsed
where month is not null and province is not null and action_type is not null and "count" is not null
    and not (ref.bad(month_raw, month) or ref.bad(count_raw, "count") or ref.bad(reported_raw, reported_at));

-- step: raids
-- needs: rtp_pages
create or replace table ref.raids as
select distinct unnest(json_extract_string(json, '$.data[*].operation_id')) as raid_id
from read_json_objects(getvariable('rtp_pages'))
where json_extract_string(json, '$.data[0].operation_id') is not null;

-- step: fct_deportations
create or replace table marts.fct_deportations as
with
bulletins as (
    select * from ref.kh
    qualify row_number() over (partition by bulletin_no, line_no order by seq desc, row_number desc) = 1
),
receptions as (
    select * from ref.th
    qualify row_number() over (partition by reception_no order by seq desc, row_number desc) = 1
),
nat as (select key, iso3 from ref.nationality_keys),
crossing as (select key, target_id from ref.place_keys where target_type = 'border_crossing'),
airport as (select key, target_id from ref.place_keys where target_type = 'airport'),
sending as (
    select
        'KH-' || b.bulletin_no || '-' || b.line_no as kh_record_key,
        b.handover_date,
        coalesce(c.target_id, ap.target_id) as crossing_site_id,
        ref.label_key(b.checkpoint) as checkpoint_key,
        coalesce(n1.iso3, n2.iso3, n3.iso3) as nationality_iso3,
        ref.label_key(b.nationality) as nationality_key,
        coalesce(d1.iso3, d2.iso3, d3.iso3) as destination_iso3,
        b.total as persons_total, b.male as persons_male, b.female as persons_female,
        nullif(regexp_extract(b.remarks, 'RTP-[0-9]{4}-[0-9]+'), '') as raid_ref,
    from bulletins as b
    left join crossing as c on c.key = ref.label_key(b.checkpoint)
    left join airport as ap on ap.key = ref.label_key(b.checkpoint)
    left join nat as n1 on n1.key = ref.label_key(b.nationality)
    left join nat as n2 on n2.key = ref.label_key(split_part(b.nationality, '/', 1))
    left join nat as n3 on n3.key = ref.label_key(split_part(b.nationality, '/', 2))
    left join nat as d1 on d1.key = ref.label_key(b.destination_country)
    left join nat as d2 on d2.key = ref.label_key(split_part(b.destination_country, '/', 1))
    left join nat as d3 on d3.key = ref.label_key(split_part(b.destination_country, '/', 2))
),
receiving as (
    select
        'TH-' || r.reception_no as th_record_key,
        r.received_date,
        coalesce(c.target_id, ap.target_id) as crossing_site_id,
        ref.label_key(r.checkpoint) as checkpoint_key,
        coalesce(n1.iso3, n2.iso3, n3.iso3) as nationality_iso3,
        ref.label_key(r.nationality) as nationality_key,
        coalesce(f1.iso3, f2.iso3, f3.iso3) as from_country_iso3,
        r.total as persons_total, r.male as persons_male, r.female as persons_female,
        r.tm35_no,
        nullif(regexp_extract(r.remarks, 'RTP-[0-9]{4}-[0-9]+'), '') as raid_ref,
    from receptions as r
    left join crossing as c on c.key = ref.label_key(r.checkpoint)
    left join airport as ap on ap.key = ref.label_key(r.checkpoint)
    left join nat as n1 on n1.key = ref.label_key(r.nationality)
    left join nat as n2 on n2.key = ref.label_key(split_part(r.nationality, '/', 1))
    left join nat as n3 on n3.key = ref.label_key(split_part(r.nationality, '/', 2))
    left join nat as f1 on f1.key = ref.label_key(r.from_country)
    left join nat as f2 on f2.key = ref.label_key(split_part(r.from_country, '/', 1))
    left join nat as f3 on f3.key = ref.label_key(split_part(r.from_country, '/', 2))
),
pairs as (
    select s.kh_record_key, r.th_record_key
    from sending as s
    inner join receiving as r
        on s.nationality_iso3 = r.nationality_iso3
        and s.crossing_site_id = r.crossing_site_id
        and r.received_date between s.handover_date and s.handover_date + 1
    qualify row_number() over (
            partition by s.kh_record_key
            order by date_diff('day', s.handover_date, r.received_date), abs(s.persons_total - r.persons_total), r.th_record_key
        ) = 1
        and row_number() over (
            partition by r.th_record_key
            order by date_diff('day', s.handover_date, r.received_date), abs(s.persons_total - r.persons_total), s.kh_record_key
        ) = 1
),
joined as (
    select
        coalesce(s.kh_record_key, r.th_record_key) as deportation_id,
        coalesce(s.handover_date, r.received_date) as handover_date,
        r.received_date,
        case when s.kh_record_key is not null then 'KHM' else r.from_country_iso3 end as from_country_iso3,
        case when r.th_record_key is not null then 'THA' else s.destination_iso3 end as to_country_iso3,
        coalesce(s.crossing_site_id, r.crossing_site_id) as crossing_site_id,
        coalesce(s.nationality_iso3, r.nationality_iso3) as nationality_iso3,
        case
            when s.kh_record_key is not null and r.th_record_key is not null then 'both'
            when s.kh_record_key is not null then 'sending'
            else 'receiving'
        end as reported_by,
        s.persons_total as sending_persons_total,
        r.persons_total as receiving_persons_total,
        case when r.th_record_key is not null then r.persons_total else s.persons_total end as persons_total,
        case when r.th_record_key is not null then r.persons_male else s.persons_male end as persons_male,
        case when r.th_record_key is not null then r.persons_female else s.persons_female end as persons_female,
        coalesce(s.raid_ref, r.raid_ref) as raid_ref,
        coalesce(
            s.persons_total <> r.persons_total or s.persons_male <> r.persons_male
            or s.persons_female <> r.persons_female,
            false
        ) as has_conflict,
        coalesce(s.crossing_site_id, r.crossing_site_id, 'unmapped:' || s.checkpoint_key, 'unmapped:' || r.checkpoint_key)
        || '|'
        || coalesce(s.nationality_iso3, r.nationality_iso3, 'unmapped:' || s.nationality_key, 'unmapped:' || r.nationality_key)
            as _partition_key,
    from sending as s
    left join pairs as p on s.kh_record_key = p.kh_record_key
    full outer join receiving as r on p.th_record_key = r.th_record_key
)
select
    j.deportation_id,
    j.handover_date,
    j.received_date,
    j.from_country_iso3,
    j.to_country_iso3,
    j.crossing_site_id,
    j.nationality_iso3,
    cast(j.persons_total as integer) as persons_total,
    cast(case when least(j.persons_male, j.persons_female) < 11 then null else j.persons_male end as integer)
        as persons_male,
    cast(case when least(j.persons_male, j.persons_female) < 11 then null else j.persons_female end as integer)
        as persons_female,
    coalesce(least(j.persons_male, j.persons_female) < 11, false) as is_suppressed,
    raids.raid_id,
    j.reported_by,
    j.has_conflict,
    cast(j.sending_persons_total as integer) as sending_persons_total,
    cast(j.receiving_persons_total as integer) as receiving_persons_total,
    j._partition_key || '|' || strftime(j.handover_date, '%Y-%m-%d') as _partition_key,
from joined as j
left join ref.raids as raids on j.raid_ref = raids.raid_id;

-- step: fct_telecom_actions
create or replace table marts.fct_telecom_actions as
with
actions as (
    select
        *,
        upper(province) = 'ALL' as is_national,
        lower(action_type) as action_kind,
    from ref.nbtc
    qualify row_number() over (partition by month, province, action_type order by seq desc, row_number desc) = 1
),
keyed as (
    select
        strftime(a.month, '%Y-%m') || '|' || coalesce(
            case when a.is_national then 'TH' else p.target_id end, 'unmapped:' || ref.label_key(a.province)
        ) || '|' || a.action_kind as telecom_action_id,
        a.month,
        case when a.is_national then 'TH' else p.target_id end as admin1_iso,
        a.is_national,
        a.action_kind as action_type,
        a."count",
        a.reported_at,
        a.seq,
        a.row_number,
    from actions as a
    left join ref.place_keys as p on p.target_type = 'admin1' and p.key = ref.label_key(a.province)
)
select
    telecom_action_id,
    month,
    admin1_iso,
    is_national,
    action_type,
    cast(arg_max("count", [seq, row_number]) as bigint) as "count",
    max(reported_at) as reported_at,
from keyed
group by telecom_action_id, month, admin1_iso, is_national, action_type;
