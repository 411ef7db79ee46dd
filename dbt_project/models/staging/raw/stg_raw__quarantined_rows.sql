with

source as (

    select * from {{ source('raw', '_quarantine') }}

),

renamed as (

    select
        feed,
        table_name,
        file_sha256,
        file_name,
        row_number,
        raw_text,
        reason,
        load_id,
        quarantined_at,
        reason like '%unknown label %' as is_unknown_label
    from source

),

final as (

    select * from renamed

)

select * from final
