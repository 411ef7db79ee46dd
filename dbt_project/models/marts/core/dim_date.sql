{#- Calendar 2020-2030 with the Buddhist Era year (CE + 543) and the Thai fiscal year (starts 1 October:
    FY2568 BE = FY2025 = 2024-10-01 .. 2025-09-30). -#}
with

spine as (

    select * from {{ ref('int_calendar_days_generated') }}

),

final as (

    select
        date_day,
        cast(year(date_day) as integer) as year,
        cast(quarter(date_day) as integer) as quarter,
        cast(month(date_day) as integer) as month,
        cast(day(date_day) as integer) as day,
        cast(date_trunc('month', date_day) as date) as month_start,
        cast(isodow(date_day) as integer) as iso_day_of_week,
        cast(weekofyear(date_day) as integer) as iso_week,
        strftime(date_day, '%B') as month_name_en,
        ['ม.ค.', 'ก.พ.', 'มี.ค.', 'เม.ย.', 'พ.ค.', 'มิ.ย.', 'ก.ค.', 'ส.ค.', 'ก.ย.', 'ต.ค.', 'พ.ย.', 'ธ.ค.'][
            month(date_day)
        ] as month_abbr_th,
        cast({{ be_year('date_day') }} as integer) as be_year,
        cast({{ thai_fiscal_year('date_day') }} as integer) as thai_fiscal_year,
        cast({{ thai_fiscal_year('date_day') }} + 543 as integer) as thai_fiscal_year_be,
        cast((month(date_day) + 2) % 12 // 3 + 1 as integer) as thai_fiscal_quarter
    from spine

)

select * from final
