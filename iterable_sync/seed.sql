-- Synthetic, deliberately dirty contacts for the embedded DuckDB warehouse.
--
-- Every value is a pure function of (seed, row number, column): a 32-bit integer mixer
-- (Wellons' "lowbias32") is applied to the row number keyed by the seed, then once more per
-- column with a column-specific salt. DuckDB's random() and hash() are not used: the first
-- is not reproducible, the second may change between DuckDB versions. All arithmetic stays
-- in UBIGINT below 2^64, so no step can overflow (DuckDB raises on overflow, it does not
-- wrap). Sections are separated by "-- name:" lines; seed.py runs them by name.
--
-- Rates below are written per 100,000 rows ("pcm") so the documentation can quote them
-- exactly; docs/seed-data.md lists them all.

-- name: macros
CREATE OR REPLACE TEMP MACRO _seed_mix32(x) AS
    -- lowbias32: a bijection on 32-bit integers with good avalanche; x must be < 2^32.
    xor(
        (xor(
            (xor(x, x >> 16) * 2146121005::UBIGINT) & 4294967295::UBIGINT,
            ((xor(x, x >> 16) * 2146121005::UBIGINT) & 4294967295::UBIGINT) >> 15
        ) * 2221713035::UBIGINT) & 4294967295::UBIGINT,
        ((xor(
            (xor(x, x >> 16) * 2146121005::UBIGINT) & 4294967295::UBIGINT,
            ((xor(x, x >> 16) * 2146121005::UBIGINT) & 4294967295::UBIGINT) >> 15
        ) * 2221713035::UBIGINT) & 4294967295::UBIGINT) >> 16
    );

-- The seed enters twice, before and after the first mixing round, so two seeds never
-- give merely a shuffled copy of each other's row hashes. The high half of a 64-bit seed is
-- folded into the salt, so seeds that differ only there differ too.
CREATE OR REPLACE TEMP MACRO _seed_key(seed, salt) AS
    _seed_mix32(xor(
        ((seed % 4294967296 + 4294967296) % 4294967296)::UBIGINT,
        _seed_mix32((((seed // 4294967296) % 4294967296 + 4294967296 + salt)
            % 4294967296)::UBIGINT)
    ));

-- One independent 32-bit draw per (row or contact hash, column salt k).
CREATE OR REPLACE TEMP MACRO _seed_draw(h, k) AS
    _seed_mix32(xor(h, ((k * 2654435769) % 4294967296)::UBIGINT));

-- A draw as an index into a 1-based list of n items.
CREATE OR REPLACE TEMP MACRO _seed_pick(u, n) AS (1 + u % n::UBIGINT)::BIGINT;

CREATE OR REPLACE TEMP MACRO _seed_cap(s) AS concat(upper(s[1]), s[2:]);

-- The low and high 16 bits of a draw, for two small independent choices from one draw.
CREATE OR REPLACE TEMP MACRO _seed_lo(u) AS (u & 65535::UBIGINT);
CREATE OR REPLACE TEMP MACRO _seed_hi(u) AS (u >> 16);
CREATE OR REPLACE TEMP MACRO _seed_frac16(v) AS v::DOUBLE / 65536.0;

-- A draw split in two nearly independent parts: the part per 100,000 decides the documented
-- rates exactly ("pcm" below), the rest (0..42949) picks among a few values.
CREATE OR REPLACE TEMP MACRO _seed_pcm(u) AS u % 100000;
CREATE OR REPLACE TEMP MACRO _seed_rest(u) AS u // 100000;
CREATE OR REPLACE TEMP MACRO _seed_rest_frac(u) AS (u // 100000)::DOUBLE / 42950.0;

-- name: keys
-- The two 32-bit keys derived from the seed; computed once and passed to create_table as
-- parameters, so the mixer is never nested inside itself there (a macro repeats its
-- argument wherever it uses it, and a nested expression tree takes DuckDB seconds to plan).
SELECT _seed_key($seed::BIGINT, 1) AS k1, _seed_key($seed::BIGINT, 2) AS k2;

-- name: row_numbers
-- range() is scanned by one thread only, and nothing in the generator breaks the pipeline;
-- a table of the row numbers is scanned in parallel, so every stage runs on all cores.
CREATE OR REPLACE TEMP TABLE _seed_row_numbers AS SELECT range AS i FROM range($rows);

-- name: create_table
CREATE OR REPLACE TABLE SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL AS
WITH
row_round_1 AS (
    SELECT i, _seed_mix32(xor(i::UBIGINT, $k1::UBIGINT)) AS x
    FROM _seed_row_numbers
),
row_keys AS (
    SELECT i, _seed_mix32(xor(x, $k2::UBIGINT)) AS b
    FROM row_round_1
),
fanout AS (
    -- A fan-out row repeats a contact from a nearby earlier row, as a join that matched
    -- twice would. Only odd rows fan out (at 600 pcm of them: 300 pcm overall) and they
    -- always point at an even row, so a fan-out row is never itself a source.
    SELECT i, b, i % 2 = 1 AND _seed_pcm(u_fanout) < 600 AS is_fanout,
        CASE WHEN i % 2 = 1 AND _seed_pcm(u_fanout) < 600
            THEN greatest(0, i - 1 - 2 * (_seed_rest(u_fanout) % 500)::BIGINT)
            ELSE i END AS j
    FROM (SELECT *, _seed_draw(b, 1) AS u_fanout FROM row_keys)
),
contact_round_1 AS (
    -- The contact hash is the row hash of the contact's first row j, recomputed (with the
    -- same two rounds) only where j differs from i.
    SELECT i, j, b, is_fanout,
        CASE WHEN is_fanout THEN _seed_mix32(xor(j::UBIGINT, $k1::UBIGINT)) END AS cx
    FROM fanout
),
contacts AS (
    SELECT i, j, b,
        CASE WHEN is_fanout THEN _seed_mix32(xor(cx, $k2::UBIGINT)) ELSE b END AS hc
    FROM contact_round_1
),
draws AS (
    -- Each mixing round costs about as much as building a string, so one draw serves two
    -- decisions where it can: the pcm part for a documented rate and the rest for a pick,
    -- or the low and high 16 bits.
    SELECT i, j,
        -- Row-level: these differ between the rows of one fanned-out contact.
        _seed_draw(b, 2) AS u_title,            -- pcm: NULL title; rest: which title
        _seed_draw(b, 3) AS u_updated,          -- age of the last update
        -- Contact-level.
        _seed_draw(hc, 10) AS u_names,          -- lo: first name; hi: last name
        _seed_draw(hc, 11) AS u_company,        -- lo: company stem; hi: legal suffix
        _seed_draw(hc, 12) AS u_email,          -- pcm: email dirt; rest: mailbox domain
        _seed_draw(hc, 13) AS u_case,           -- pcm: letter case; rest: +tag
        _seed_draw(hc, 14) AS u_company_null,   -- pcm: no company; rest: country
        _seed_draw(hc, 15) AS u_plan,           -- pcm: plan; rest: email opt-in
        _seed_draw(hc, 16) AS u_user_id,        -- pcm: NULL user id; rest: id, product opt-in
        _seed_draw(hc, 17) AS u_created,        -- account age
        _seed_draw(hc, 18) AS u_created_null,   -- pcm: NULL created; rest: namespace count
        _seed_draw(hc, 19) AS u_login,          -- time since the last login
        _seed_draw(hc, 20) AS u_login_null,     -- pcm: NULL last login; rest: active state
        _seed_draw(hc, 21) AS u_state_null,     -- pcm: NULL active state; rest: subgroup
        _seed_draw(hc, 22) AS u_ns_null,        -- pcm: NULL namespaces
        _seed_draw(hc, 23) AS u_ns_1,           -- lo: group created; hi: group members
        _seed_draw(hc, 24) AS u_ns_2,           -- lo: subgroup created; hi: subgroup members
        _seed_draw(hc, 25) AS u_ns_plans,       -- lo: group plan; hi: subgroup plan
        _seed_draw(hc, 26) AS u_seats_lead,     -- lo: seats; hi: lead score
        _seed_draw(hc, 27) AS u_trial,          -- pcm: trial date kind; rest: its date
        _seed_draw(hc, 28) AS u_size            -- pcm: company size kind; rest: its value
    FROM contacts
),
people AS (
    SELECT *,
        [
            {'name': 'James', 'slug': 'james'}, {'name': 'Mary', 'slug': 'mary'},
            {'name': 'Robert', 'slug': 'robert'}, {'name': 'Patricia', 'slug': 'patricia'},
            {'name': 'Michael', 'slug': 'michael'}, {'name': 'Jennifer', 'slug': 'jennifer'},
            {'name': 'David', 'slug': 'david'}, {'name': 'Sarah', 'slug': 'sarah'},
            {'name': 'Daniel', 'slug': 'daniel'}, {'name': 'Emily', 'slug': 'emily'},
            {'name': 'Mohammed', 'slug': 'mohammed'}, {'name': 'Fatima', 'slug': 'fatima'},
            {'name': 'Wei', 'slug': 'wei'}, {'name': 'Yuki', 'slug': 'yuki'},
            {'name': 'Hiroshi', 'slug': 'hiroshi'}, {'name': 'Priya', 'slug': 'priya'},
            {'name': 'Arjun', 'slug': 'arjun'}, {'name': 'Olga', 'slug': 'olga'},
            {'name': 'Dmitri', 'slug': 'dmitri'}, {'name': 'Anna', 'slug': 'anna'},
            {'name': 'Lucas', 'slug': 'lucas'}, {'name': 'Sofia', 'slug': 'sofia'},
            {'name': 'Mateo', 'slug': 'mateo'}, {'name': 'Camille', 'slug': 'camille'},
            {'name': 'Lars', 'slug': 'lars'}, {'name': 'Ingrid', 'slug': 'ingrid'},
            {'name': 'Kwame', 'slug': 'kwame'}, {'name': 'Amara', 'slug': 'amara'},
            {'name': 'Chen', 'slug': 'chen'}, {'name': 'Min-jun', 'slug': 'minjun'},
            {'name': 'José', 'slug': 'jose'}, {'name': 'Zoë', 'slug': 'zoe'},
            {'name': 'Łukasz', 'slug': 'lukasz'}, {'name': 'Søren', 'slug': 'soren'},
            {'name': 'Björn', 'slug': 'bjorn'}, {'name': 'François', 'slug': 'francois'},
            {'name': 'Chloé', 'slug': 'chloe'}, {'name': 'Renée', 'slug': 'renee'},
            {'name': 'Ayşe', 'slug': 'ayse'}, {'name': 'Jürgen', 'slug': 'jurgen'},
            {'name': 'Małgorzata', 'slug': 'malgorzata'},
            {'name': 'Sebastián', 'slug': 'sebastian'},
            {'name': 'Ángel', 'slug': 'angel'}, {'name': 'Đorđe', 'slug': 'dorde'},
            {'name': 'Siobhán', 'slug': 'siobhan'}, {'name': '明', 'slug': 'ming'},
            {'name': 'Мария', 'slug': 'mariya'}, {'name': 'Nguyệt', 'slug': 'nguyet'}
        ][_seed_pick(_seed_lo(u_names), 48)] AS first_n,
        [
            {'name': 'Smith', 'slug': 'smith'}, {'name': 'Johnson', 'slug': 'johnson'},
            {'name': 'Williams', 'slug': 'williams'}, {'name': 'Brown', 'slug': 'brown'},
            {'name': 'Jones', 'slug': 'jones'}, {'name': 'Miller', 'slug': 'miller'},
            {'name': 'Davis', 'slug': 'davis'}, {'name': 'Wilson', 'slug': 'wilson'},
            {'name': 'Anderson', 'slug': 'anderson'}, {'name': 'Taylor', 'slug': 'taylor'},
            {'name': 'Thomas', 'slug': 'thomas'}, {'name': 'Moore', 'slug': 'moore'},
            {'name': 'García', 'slug': 'garcia'}, {'name': 'Rodríguez', 'slug': 'rodriguez'},
            {'name': 'Martínez', 'slug': 'martinez'}, {'name': 'Hernández', 'slug': 'hernandez'},
            {'name': 'López', 'slug': 'lopez'}, {'name': 'Müller', 'slug': 'mueller'},
            {'name': 'Schmidt', 'slug': 'schmidt'}, {'name': 'Schneider', 'slug': 'schneider'},
            {'name': 'Fischer', 'slug': 'fischer'}, {'name': 'Nowak', 'slug': 'nowak'},
            {'name': 'Kowalski', 'slug': 'kowalski'}, {'name': 'Wiśniewski', 'slug': 'wisniewski'},
            {'name': 'Dubois', 'slug': 'dubois'}, {'name': 'Lefèvre', 'slug': 'lefevre'},
            {'name': 'Rossi', 'slug': 'rossi'}, {'name': 'Russo', 'slug': 'russo'},
            {'name': 'Jensen', 'slug': 'jensen'}, {'name': 'Johansson', 'slug': 'johansson'},
            {'name': 'Ivanov', 'slug': 'ivanov'}, {'name': 'Petrova', 'slug': 'petrova'},
            {'name': 'Kim', 'slug': 'kim'}, {'name': 'Lee', 'slug': 'lee'},
            {'name': 'Park', 'slug': 'park'}, {'name': 'Nguyễn', 'slug': 'nguyen'},
            {'name': 'Tran', 'slug': 'tran'}, {'name': 'Wang', 'slug': 'wang'},
            {'name': 'Zhang', 'slug': 'zhang'}, {'name': '李', 'slug': 'li'},
            {'name': '王', 'slug': 'wang'}, {'name': 'Tanaka', 'slug': 'tanaka'},
            {'name': 'Suzuki', 'slug': 'suzuki'}, {'name': 'Satō', 'slug': 'sato'},
            {'name': 'Patel', 'slug': 'patel'}, {'name': 'Singh', 'slug': 'singh'},
            {'name': 'Kumar', 'slug': 'kumar'}, {'name': 'Okafor', 'slug': 'okafor'},
            {'name': 'Mensah', 'slug': 'mensah'}, {'name': 'O''Brien', 'slug': 'obrien'},
            {'name': 'van der Berg', 'slug': 'vanderberg'}, {'name': 'Çelik', 'slug': 'celik'},
            {'name': 'Yılmaz', 'slug': 'yilmaz'}, {'name': 'Søndergaard', 'slug': 'sondergaard'},
            {'name': 'Kovačević', 'slug': 'kovacevic'}, {'name': 'Иванова', 'slug': 'ivanova'}
        ][_seed_pick(_seed_hi(u_names), 56)] AS last_n,
        [
            {'name': 'Acme', 'slug': 'acme'}, {'name': 'Globex', 'slug': 'globex'},
            {'name': 'Initech', 'slug': 'initech'}, {'name': 'Hooli', 'slug': 'hooli'},
            {'name': 'Vandelay', 'slug': 'vandelay'}, {'name': 'Umbrella', 'slug': 'umbrella'},
            {'name': 'Cyberdyne', 'slug': 'cyberdyne'}, {'name': 'Tyrell', 'slug': 'tyrell'},
            {'name': 'Soylent', 'slug': 'soylent'}, {'name': 'Stark', 'slug': 'stark'},
            {'name': 'Wayne', 'slug': 'wayne'}, {'name': 'Nordwind', 'slug': 'nordwind'},
            {'name': 'Oceanic', 'slug': 'oceanic'},
            {'name': 'Massive Dynamic', 'slug': 'massivedynamic'},
            {'name': 'Pied Piper', 'slug': 'piedpiper'}, {'name': 'Aperture', 'slug': 'aperture'},
            {'name': 'Blue Sun', 'slug': 'bluesun'}, {'name': 'Zhōngxīng', 'slug': 'zhongxing'},
            {'name': 'Müller & Söhne', 'slug': 'mueller-soehne'}, {'name': 'Kōbe', 'slug': 'kobe'},
            {'name': 'São Paulo Dados', 'slug': 'spdados'}, {'name': 'Łódź', 'slug': 'lodz'},
            {'name': 'Gdańsk', 'slug': 'gdansk'}, {'name': 'Île-de-France', 'slug': 'iledefrance'},
            {'name': 'Nakatomi', 'slug': 'nakatomi'}, {'name': 'Wonka', 'slug': 'wonka'},
            {'name': 'Dunder Mifflin', 'slug': 'dundermifflin'}, {'name': 'Bluth', 'slug': 'bluth'},
            {'name': 'Sterling Cooper', 'slug': 'sterlingcooper'},
            {'name': 'Tech Mahal', 'slug': 'techmahal'},
            {'name': 'Sakura', 'slug': 'sakura'}, {'name': 'Fjord', 'slug': 'fjord'},
            {'name': 'Northwind', 'slug': 'northwind'}, {'name': 'Contoso', 'slug': 'contoso'},
            {'name': 'Fabrikam', 'slug': 'fabrikam'}, {'name': 'Lumon', 'slug': 'lumon'},
            {'name': 'Weyland', 'slug': 'weyland'}, {'name': 'Krusty', 'slug': 'krusty'},
            {'name': 'Prestige Worldwide', 'slug': 'prestigeworldwide'},
            {'name': 'Monarch', 'slug': 'monarch'}
        ][_seed_pick(_seed_lo(u_company), 40)] AS company_stem,
        -- The suffix carries the top-level domain, so one company always has one domain.
        [
            {'name': 'Labs', 'slug': 'labs', 'tld': 'io'},
            {'name': 'Systems', 'slug': 'systems', 'tld': 'com'},
            {'name': 'Cloud', 'slug': 'cloud', 'tld': 'dev'},
            {'name': 'Software', 'slug': 'software', 'tld': 'com'},
            {'name': 'Analytics', 'slug': 'analytics', 'tld': 'ai'},
            {'name': 'GmbH', 'slug': 'gmbh', 'tld': 'de'},
            {'name': 'Inc.', 'slug': 'inc', 'tld': 'com'},
            {'name': 'Ltd', 'slug': 'ltd', 'tld': 'co.uk'},
            {'name': 'Group', 'slug': 'group', 'tld': 'net'},
            {'name': 'Robotics', 'slug': 'robotics', 'tld': 'ai'},
            {'name': 'Digital', 'slug': 'digital', 'tld': 'fr'},
            {'name': 'Technologies', 'slug': 'tech', 'tld': 'in'},
            {'name': 'S.A.', 'slug': 'sa', 'tld': 'com.br'},
            {'name': 'AB', 'slug': 'ab', 'tld': 'se'},
            {'name': 'K.K.', 'slug': 'kk', 'tld': 'jp'},
            {'name': 'Sp. z o.o.', 'slug': 'spzoo', 'tld': 'pl'},
            {'name': 'B.V.', 'slug': 'bv', 'tld': 'nl'},
            {'name': 'Co., Ltd.', 'slug': 'co', 'tld': 'cn'}
        ][_seed_pick(_seed_hi(u_company), 18)] AS company_suffix,
        -- Personal mailbox providers, repeated to weight them (gmail.com is 10 in 28).
        [
            'gmail.com', 'gmail.com', 'gmail.com', 'gmail.com', 'gmail.com',
            'gmail.com', 'gmail.com', 'gmail.com', 'gmail.com', 'gmail.com',
            'outlook.com', 'outlook.com', 'hotmail.com', 'hotmail.com', 'yahoo.com',
            'yahoo.com', 'icloud.com', 'proton.me', 'protonmail.com', 'gmx.de', 'web.de',
            'yandex.ru', 'mail.ru', 'qq.com', '163.com', 'naver.com', 'orange.fr', 'libero.it'
        ][_seed_pick(_seed_rest(u_email) // 2, 28)] AS personal_domain,
        _seed_rest(u_email) % 2 = 0 AS is_personal,
        -- Contact numbers start at 1; as text, because every use of one is inside a string.
        (j + 1)::VARCHAR AS contact_no,
        CASE WHEN _seed_pcm(u_plan) < 82000 THEN 'free'
            WHEN _seed_pcm(u_plan) < 94000 THEN 'premium'
            ELSE 'ultimate' END AS plan,
        -- Ages are seconds before as_of 00:00:00. created is 1 h to 100 days old, so 27-30%
        -- of contacts (the month's length decides) fall inside the model's one-month window;
        -- the last login lies strictly after creation, the row's last update after the login.
        3600 + (u_created % (100 * 86400 - 3600))::BIGINT AS created_age,
        epoch_us($as_of::DATE::TIMESTAMP) AS as_of_us
    FROM draws
),
shaped AS (
    -- concat() rather than || throughout: one allocation per value instead of one per
    -- operator, which is most of the cost of building strings for ten million rows.
    SELECT *,
        1 + (u_login % (created_age - 1)::UBIGINT)::BIGINT AS login_age,
        make_timestamp(as_of_us - created_age * 1000000) AS created_at,
        CASE WHEN is_personal THEN personal_domain
            ELSE concat(company_stem.slug, '-', company_suffix.slug, '.', company_suffix.tld)
        END AS email_domain,
        CASE WHEN _seed_rest(u_case) % 25 = 0
            THEN concat('+', ['news', 'gitlab', 'work', 'dev', 'iterable', '2024'][
                _seed_pick(_seed_rest(u_case) // 25, 6)])
            ELSE '' END AS email_tag,
        CASE WHEN _seed_rest(u_created_null) % 1000 < 700 THEN 1
            WHEN _seed_rest(u_created_null) % 1000 < 925 THEN 2
            ELSE 3 END AS ns_count
    FROM people
)
SELECT
    -- 'C' and nine digits: the digits of 10^9 + n without the leading 1 (faster than lpad).
    concat('C', substr((1000000001 + j)::VARCHAR, 2)) AS CONTACT_ID,
    CASE
        WHEN _seed_pcm(u_email) < 500 THEN NULL
        WHEN _seed_pcm(u_email) < 600 THEN ''
        WHEN _seed_pcm(u_email) < 750 THEN '   '
        WHEN _seed_pcm(u_email) < 950
            THEN concat(first_n.slug, '.', last_n.slug, '.', contact_no, '.', email_domain)
        WHEN _seed_pcm(u_email) < 1100
            THEN concat(first_n.slug, '.', last_n.slug, '.', contact_no, '@',
                split_part(email_domain, '.', 1))
        WHEN _seed_pcm(u_email) < 1250
            THEN concat(first_n.slug, '.', last_n.slug, '.', contact_no, '@@', email_domain)
        WHEN _seed_pcm(u_email) < 1500
            THEN concat(first_n.slug, '.', last_n.slug, '.', contact_no, email_tag, '@',
                email_domain, '  ')
        WHEN _seed_pcm(u_case) < 1000
            THEN upper(concat(first_n.slug, '.', last_n.slug, '.', contact_no, email_tag, '@',
                email_domain))
        WHEN _seed_pcm(u_case) < 5000
            THEN concat(_seed_cap(first_n.slug), '.', _seed_cap(last_n.slug), '.', contact_no,
                email_tag, '@', _seed_cap(email_domain))
        ELSE concat(first_n.slug, '.', last_n.slug, '.', contact_no, email_tag, '@',
            email_domain)
    END AS EMAIL,
    CASE WHEN _seed_pcm(u_user_id) < 500 THEN NULL
        -- Unique per contact: contact numbers are unique, and the jitter is below 7.
        ELSE 1000000 + j * 7 + (_seed_rest(u_user_id) % 7)::BIGINT END AS GITLAB_USER_ID,
    first_n.name AS FIRST_NAME,
    last_n.name AS LAST_NAME,
    CASE WHEN is_personal AND _seed_pcm(u_company_null) < 30000 THEN NULL
        ELSE concat(company_stem.name, ' ', company_suffix.name) END AS COMPANY_NAME,
    -- Repeated to weight them: the US is 8 in 50, India and Germany 3 each, ...
    [
        'US', 'US', 'US', 'US', 'US', 'US', 'US', 'US', 'IN', 'IN', 'IN', 'DE', 'DE', 'DE',
        'GB', 'GB', 'BR', 'BR', 'FR', 'FR', 'CN', 'CN', 'JP', 'JP', 'CA', 'PL', 'ES', 'NL',
        'AU', 'SE', 'KR', 'MX', 'NG', 'UA', 'TR', 'IT', 'CH', 'IL', 'ZA', 'SG', 'AR', 'PT',
        'RO', 'VN', 'ID', 'EG', 'KE', 'NO', 'FI', 'IE'
    ][_seed_pick(_seed_rest(u_company_null), 50)] AS COUNTRY,
    CASE WHEN _seed_pcm(u_title) < 6000 THEN NULL ELSE [
        'Software Engineer', 'Senior Software Engineer', 'Staff Engineer',
        'Engineering Manager', 'DevOps Engineer', 'Site Reliability Engineer',
        'Platform Engineer', 'Security Engineer', 'Data Engineer', 'Data Scientist',
        'Product Manager', 'CTO', 'VP of Engineering', 'QA Engineer', 'Frontend Developer',
        'Backend Developer', 'Student', 'Consultant', 'Ingénieur logiciel',
        'Softwareentwickler', 'Desarrolladora de software', 'Technical Writer',
        'IT Administrator', 'Founder'
    ][_seed_pick(_seed_rest(u_title), 24)] END AS JOB_TITLE,
    plan AS PLAN,
    _seed_rest(u_plan) % 1000 < 620 AS IS_EMAIL_OPTED_IN,
    CASE WHEN (_seed_rest(u_user_id) // 7) % 100 < 5 THEN NULL
        ELSE (_seed_rest(u_user_id) // 7) % 100 < 68 END AS IS_PRODUCT_OPTED_IN,
    CASE WHEN _seed_pcm(u_created_null) < 2500 THEN NULL ELSE created_at END
        AS GITLAB_DOTCOM_CREATED_DATE,
    CASE WHEN _seed_pcm(u_login_null) < 3500 THEN NULL
        ELSE make_timestamp(as_of_us - login_age * 1000000) END
        AS GITLAB_DOTCOM_LAST_LOGIN_DATE,
    CASE
        WHEN _seed_pcm(u_state_null) < 3000 THEN NULL
        WHEN _seed_rest(u_login_null) % 1000 < 920 THEN 'active'
        WHEN _seed_rest(u_login_null) % 1000 < 950 THEN 'blocked'
        ELSE 'deactivated'
    END AS GITLAB_DOTCOM_ACTIVE_STATE,
    -- The personal namespace comes first; group namespaces (a top-level group, then a
    -- subgroup of it) are built only for the rows that have them.
    CASE WHEN _seed_pcm(u_ns_null) < 3000 THEN NULL ELSE concat(
        '[{"namespace_id":', 30000000 + j * 3,
        ',"path":"', first_n.slug, '-', last_n.slug, '-', contact_no,
        '","plan":"', plan, '","created_at":"', created_at::VARCHAR, '","member_count":1}',
        CASE WHEN ns_count >= 2 THEN concat(
            ',{"namespace_id":', 30000000 + j * 3 + 1,
            ',"path":"', company_stem.slug, '-', company_suffix.slug,
            '","plan":"', CASE WHEN _seed_lo(u_ns_plans) < 49152 THEN 'free'
                WHEN _seed_lo(u_ns_plans) < 58982 THEN 'premium' ELSE 'ultimate' END,
            '","created_at":"', make_timestamp(as_of_us - (created_age
                * _seed_frac16(_seed_lo(u_ns_1)))::BIGINT * 1000000)::VARCHAR,
            '","member_count":', (2 + floor(pow(300, _seed_frac16(_seed_hi(u_ns_1)))))::INTEGER,
            '}') ELSE '' END,
        CASE WHEN ns_count >= 3 THEN concat(
            ',{"namespace_id":', 30000000 + j * 3 + 2,
            ',"path":"', company_stem.slug, '-', company_suffix.slug, '/',
            ['platform', 'infra', 'web', 'mobile', 'data', 'security', 'docs', 'sandbox',
                'backend', 'frontend', 'ml', 'devops'][_seed_pick(_seed_rest(u_state_null), 12)],
            '","plan":"', CASE WHEN _seed_hi(u_ns_plans) < 52429 THEN 'free'
                WHEN _seed_hi(u_ns_plans) < 60293 THEN 'premium' ELSE 'ultimate' END,
            '","created_at":"', make_timestamp(as_of_us - (created_age
                * _seed_frac16(_seed_lo(u_ns_2)))::BIGINT * 1000000)::VARCHAR,
            '","member_count":', (2 + floor(pow(120, _seed_frac16(_seed_hi(u_ns_2)))))::INTEGER,
            '}') ELSE '' END,
        ']')::JSON END AS NAMESPACES_ARRAY,
    CASE WHEN _seed_pcm(u_ns_null) < 3000 THEN NULL ELSE ns_count END AS NAMESPACE_COUNT,
    CASE WHEN plan = 'free' THEN 0
        ELSE (1 + floor(pow(500, _seed_frac16(_seed_lo(u_seats_lead)))))::INTEGER
    END AS SEAT_COUNT,
    round(_seed_frac16(_seed_hi(u_seats_lead)) * 70
        + CASE WHEN plan = 'free' THEN 0 ELSE 30 END, 2) AS LEAD_SCORE,
    plan <> 'free' AS IS_PAID,
    CASE
        WHEN _seed_pcm(u_trial) < 120 THEN '0000-00-00 00:00:00'
        WHEN _seed_pcm(u_trial) < 180 THEN concat(year($as_of::DATE), '-02-30 00:00:00')
        WHEN _seed_pcm(u_trial) < 240 THEN 'N/A'
        WHEN _seed_pcm(u_trial) < 300 THEN concat('13/45/', year($as_of::DATE))
        WHEN _seed_pcm(u_trial) < 30300 THEN make_timestamp(as_of_us
            - (created_age * _seed_rest_frac(u_trial))::BIGINT * 1000000)::VARCHAR
        ELSE NULL
    END AS TRIAL_START_DATE,
    CASE
        WHEN _seed_pcm(u_size) < 250 THEN 'unknown'
        WHEN _seed_pcm(u_size) < 500
            THEN ['1-10', '11-50', '50-100', '101-500', '1000+'][
                _seed_pick(_seed_rest(u_size), 5)]
        WHEN _seed_pcm(u_size) < 8500 THEN NULL
        ELSE floor(pow(20000, _seed_rest_frac(u_size)))::INTEGER::VARCHAR
    END AS COMPANY_SIZE,
    -- Sub-second part: i * 7919 mod 10^6 is distinct for rows less than 10^6 apart, and a
    -- fan-out row is at most 999 rows from its source, so duplicates never tie.
    make_timestamp(as_of_us - (1 + (u_updated % login_age::UBIGINT)::BIGINT) * 1000000
        + (i * 7919) % 1000000) AS UPDATED_AT
FROM shaped;

-- name: summary
-- Counts what is actually in the table, by the same rules a validator would apply; it does
-- not trust the generator's intentions.
WITH t AS (
    SELECT *,
        CASE
            WHEN EMAIL IS NULL THEN 'null'
            -- Tested first because almost every row is well-formed; the pattern admits one @
            -- and no whitespace, so no later branch could have claimed such a row.
            WHEN regexp_full_match(EMAIL, $email_pattern) THEN 'valid'
            WHEN trim(EMAIL) = '' THEN 'blank'
            WHEN NOT contains(EMAIL, '@') THEN 'no_at'
            WHEN length(EMAIL) - length(replace(EMAIL, '@', '')) > 1 THEN 'multiple_at'
            WHEN regexp_full_match(trim(EMAIL), $email_pattern) THEN 'untrimmed'
            ELSE 'bad_domain'
        END AS email_kind,
        CASE
            WHEN TRIAL_START_DATE IS NULL THEN 'null'
            WHEN TRIAL_START_DATE = '0000-00-00 00:00:00' THEN 'zero_date'
            WHEN try_strptime(TRIAL_START_DATE, '%Y-%m-%d %H:%M:%S') IS NOT NULL THEN 'valid'
            WHEN regexp_full_match(TRIAL_START_DATE, '\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}')
                THEN 'impossible_date'
            ELSE 'unparseable'
        END AS trial_kind,
        -- The model's window, with GETDATE() taken as as_of 00:00:00.
        CAST(GITLAB_DOTCOM_CREATED_DATE AS DATE) > $as_of::DATE - INTERVAL 1 MONTH AS in_window
    FROM SENSITIVE.POC_PUMP_MARKETING_CONTACT_NAMESPACE_DETAIL
)
-- count(*) FILTER rather than count_if: on an empty table it gives 0, not NULL.
SELECT
    count(*) AS rows,
    count(DISTINCT CONTACT_ID) AS distinct_contacts,
    count(*) - count(DISTINCT CONTACT_ID) AS duplicate_key_rows,
    count(*) FILTER (WHERE email_kind = 'null') AS email_null,
    count(*) FILTER (WHERE email_kind = 'blank') AS email_blank,
    count(*) FILTER (WHERE email_kind = 'no_at') AS email_no_at,
    count(*) FILTER (WHERE email_kind = 'multiple_at') AS email_multiple_at,
    count(*) FILTER (WHERE email_kind = 'bad_domain') AS email_bad_domain,
    count(*) FILTER (WHERE email_kind = 'untrimmed') AS email_untrimmed,
    count(*) FILTER (WHERE GITLAB_USER_ID IS NULL) AS user_id_null,
    count(*) FILTER (WHERE GITLAB_DOTCOM_CREATED_DATE IS NULL) AS created_date_null,
    count(*) FILTER (WHERE GITLAB_DOTCOM_LAST_LOGIN_DATE IS NULL) AS last_login_null,
    count(*) FILTER (WHERE GITLAB_DOTCOM_ACTIVE_STATE IS NULL) AS active_state_null,
    count(*) FILTER (WHERE NAMESPACES_ARRAY IS NULL) AS namespaces_null,
    count(*) FILTER (WHERE trial_kind = 'zero_date') AS trial_zero_date,
    count(*) FILTER (WHERE trial_kind = 'impossible_date') AS trial_impossible_date,
    count(*) FILTER (WHERE trial_kind = 'unparseable') AS trial_unparseable,
    count(*) FILTER (
        WHERE COMPANY_SIZE IS NOT NULL AND TRY_CAST(COMPANY_SIZE AS INTEGER) IS NULL
    ) AS company_size_non_integer,
    count(*) FILTER (WHERE in_window) AS rows_in_window,
    count(*) FILTER (WHERE in_window AND GITLAB_DOTCOM_LAST_LOGIN_DATE IS NOT NULL
        AND GITLAB_DOTCOM_ACTIVE_STATE IS NOT NULL AND NAMESPACES_ARRAY IS NOT NULL)
        AS rows_passing_model
FROM t;
