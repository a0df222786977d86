-- modules/aws_cloudwatch/aws_cloudwatch.sql — CloudWatch Logs log groups and CloudWatch metric
-- alarms.
CREATE TABLE log_group (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  log_group_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  retention_in_days integer,
  tags jsonb NOT NULL DEFAULT '{}',
  log_group_arn text,
  creation_time timestamptz,
  CONSTRAINT log_group_name_unique_in_region UNIQUE (log_group_name, region),
  CONSTRAINT log_group_name_1_to_512_characters CHECK (length(log_group_name) BETWEEN 1 AND 512),
  CONSTRAINT log_group_name_letters_digits_dot_underscore_slash_hash_hyphen
    CHECK (log_group_name ~ '^[._/#A-Za-z0-9-]+$'),
  CONSTRAINT log_group_retention_in_days_one_of_the_values_aws_allows
    CHECK (retention_in_days IS NULL OR retention_in_days IN
           (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
            2557, 2922, 3288, 3653)),
  CONSTRAINT log_group_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

-- The engine adds its own tags at create: the limit counts them.
CREATE TRIGGER log_group_tags_max_49_plus_iasql_owner BEFORE INSERT OR UPDATE OF tags ON log_group
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);

-- Up to five action ARNs (ResourceList), each 1 to 1024 characters.
CREATE FUNCTION metric_alarm_actions_valid(a text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT coalesce(cardinality(a), 0) <= 5
     AND NOT EXISTS (SELECT 1 FROM unnest(a) x WHERE x IS NULL OR x !~ '^arn:' OR length(x) > 1024)
$$;

-- Dimensions: up to 30 {"Name": 1..255 characters, "Value": 1..1024}.
CREATE FUNCTION metric_alarm_dimensions_valid(d jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT jsonb_typeof(d) = 'array' AND jsonb_array_length(d) <= 30
     AND NOT EXISTS (
       SELECT 1 FROM jsonb_array_elements(d) x
        WHERE jsonb_typeof(x) <> 'object'
           OR (SELECT count(*) FROM jsonb_object_keys(x)) <> 2
           OR jsonb_typeof(x -> 'Name') IS DISTINCT FROM 'string'
           OR jsonb_typeof(x -> 'Value') IS DISTINCT FROM 'string'
           OR length(x ->> 'Name') NOT BETWEEN 1 AND 255
           OR length(x ->> 'Value') NOT BETWEEN 1 AND 1024)
$$;

-- Metric math (MetricDataQueries) as the API's JSON: 1 to 20 queries, each
-- an Id of its own (a lower-case letter, then letters, digits, underscores) and either
-- a MetricStat (Metric with Namespace and MetricName, Period, Stat) or an
-- Expression (1..2048), with only the members the model names.
CREATE FUNCTION metric_alarm_metrics_valid(m jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT jsonb_typeof(m) = 'array' AND jsonb_array_length(m) BETWEEN 1 AND 20
     AND NOT EXISTS (
       SELECT 1 FROM jsonb_array_elements(m) q
        WHERE jsonb_typeof(q) <> 'object'
           OR EXISTS (SELECT 1 FROM jsonb_object_keys(q) k
                       WHERE k NOT IN ('Id', 'MetricStat', 'Expression', 'Label', 'ReturnData',
                                       'Period', 'AccountId'))
           OR coalesce(q ->> 'Id', '') !~ '^[a-z][A-Za-z0-9_]*$' OR length(q ->> 'Id') > 255
           OR (q ? 'MetricStat') = (q ? 'Expression')
           OR (q ? 'Expression' AND (jsonb_typeof(q -> 'Expression') <> 'string'
                                     OR length(q ->> 'Expression') NOT BETWEEN 1 AND 2048))
           OR (q ? 'ReturnData' AND jsonb_typeof(q -> 'ReturnData') <> 'boolean')
           OR (q ? 'Period' AND (jsonb_typeof(q -> 'Period') <> 'number'
                                 OR (q ->> 'Period')::numeric < 1))
           OR (q ? 'MetricStat' AND (
                 jsonb_typeof(q -> 'MetricStat') <> 'object'
              OR EXISTS (SELECT 1 FROM jsonb_object_keys(q -> 'MetricStat') k
                          WHERE k NOT IN ('Metric', 'Period', 'Stat', 'Unit'))
              OR jsonb_typeof(q #> '{MetricStat,Metric}') IS DISTINCT FROM 'object'
              OR EXISTS (SELECT 1 FROM jsonb_object_keys(q #> '{MetricStat,Metric}') k
                          WHERE k NOT IN ('Namespace', 'MetricName', 'Dimensions'))
              OR length(q #>> '{MetricStat,Metric,Namespace}') NOT BETWEEN 1 AND 255
              OR length(q #>> '{MetricStat,Metric,MetricName}') NOT BETWEEN 1 AND 255
              OR NOT metric_alarm_dimensions_valid(coalesce(q #> '{MetricStat,Metric,Dimensions}',
                                                            '[]'))
              OR jsonb_typeof(q #> '{MetricStat,Period}') IS DISTINCT FROM 'number'
              OR (q #>> '{MetricStat,Period}')::numeric < 1
              OR coalesce(q #>> '{MetricStat,Stat}', '') = '')))
     AND (SELECT count(DISTINCT q ->> 'Id') = count(*) FROM jsonb_array_elements(m) q)
$$;

-- How many queries of a metric math array return data (ReturnData is true
-- when left out).
CREATE FUNCTION metric_alarm_metrics_returning(m jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT count(*) FROM jsonb_array_elements(m) q
   WHERE jsonb_typeof(q) = 'object' AND coalesce((q ->> 'ReturnData')::boolean, true)
$$;

CREATE TABLE metric_alarm (
  id bigint PRIMARY KEY DEFAULT nextval('iasql_row_id_seq'),
  alarm_name text NOT NULL,
  region text NOT NULL DEFAULT default_aws_region() REFERENCES aws_regions (region),
  alarm_description text,
  actions_enabled boolean NOT NULL DEFAULT true,
  alarm_actions text[] NOT NULL DEFAULT '{}',
  ok_actions text[] NOT NULL DEFAULT '{}',
  insufficient_data_actions text[] NOT NULL DEFAULT '{}',
  metric_name text,
  namespace text,
  statistic text,
  extended_statistic text,
  dimensions jsonb NOT NULL DEFAULT '[]',
  period integer,
  evaluation_periods integer NOT NULL,
  datapoints_to_alarm integer,
  threshold double precision,
  threshold_metric_id text,
  comparison_operator text NOT NULL,
  treat_missing_data text,
  unit text,
  metrics jsonb,
  tags jsonb NOT NULL DEFAULT '{}',
  alarm_arn text,
  state_value text,
  CONSTRAINT metric_alarm_name_unique_in_region UNIQUE (alarm_name, region),
  CONSTRAINT metric_alarm_name_1_to_255_characters CHECK (length(alarm_name) BETWEEN 1 AND 255),
  CONSTRAINT metric_alarm_description_up_to_1024_characters
    CHECK (alarm_description IS NULL OR length(alarm_description) <= 1024),
  CONSTRAINT metric_alarm_actions_up_to_5_arns
    CHECK (metric_alarm_actions_valid(alarm_actions) AND metric_alarm_actions_valid(ok_actions)
           AND metric_alarm_actions_valid(insufficient_data_actions)),
  CONSTRAINT metric_alarm_one_of_statistic_extended_statistic_or_metrics
    CHECK (num_nonnulls(statistic, extended_statistic, metrics) = 1),
  CONSTRAINT metric_alarm_statistic_samplecount_average_sum_minimum_maximum
    CHECK (statistic IS NULL OR statistic IN ('SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum')),
  CONSTRAINT metric_alarm_extended_statistic_a_percentile_or_trimmed_stat
    CHECK (extended_statistic IS NULL OR extended_statistic = 'IQM' OR
           extended_statistic ~ '^(p|tm|tc|ts|wm)(100|[0-9]{1,2}(\.[0-9]{1,10})?)$' OR
           extended_statistic ~ '^(TM|TC|TS|WM)\(([0-9]{1,2}(\.[0-9]+)?%)?:([0-9]{1,2}(\.[0-9]+)?%)?\)$' OR
           extended_statistic ~ '^PR\(-?[0-9.eE+]*:-?[0-9.eE+]*\)$'),
  CONSTRAINT metric_alarm_metric_name_and_namespace_with_a_statistic
    CHECK (metrics IS NOT NULL OR (metric_name IS NOT NULL AND namespace IS NOT NULL
                                   AND period IS NOT NULL)),
  CONSTRAINT metric_alarm_metrics_without_metric_name_namespace_dimensions
    CHECK (metrics IS NULL OR (metric_name IS NULL AND namespace IS NULL AND dimensions = '[]'
                               AND period IS NULL AND unit IS NULL)),
  CONSTRAINT metric_alarm_metric_name_1_to_255_characters
    CHECK (metric_name IS NULL OR length(metric_name) BETWEEN 1 AND 255),
  CONSTRAINT metric_alarm_namespace_1_to_255_chars_not_starting_with_a_colon
    CHECK (namespace IS NULL OR (length(namespace) BETWEEN 1 AND 255 AND namespace !~ '^:')),
  CONSTRAINT metric_alarm_dimensions_up_to_30_names_and_values
    CHECK (metric_alarm_dimensions_valid(dimensions)),
  CONSTRAINT metric_alarm_period_10_20_30_or_a_multiple_of_60
    CHECK (period IS NULL OR period IN (10, 20, 30) OR (period >= 60 AND period % 60 = 0)),
  CONSTRAINT metric_alarm_evaluation_periods_at_least_1 CHECK (evaluation_periods >= 1),
  CONSTRAINT metric_alarm_evaluation_up_to_1_day_or_7_for_hourly_periods
    CHECK (period IS NULL OR
           period::bigint * evaluation_periods <= CASE WHEN period >= 3600 THEN 604800 ELSE 86400 END),
  CONSTRAINT metric_alarm_datapoints_to_alarm_1_to_evaluation_periods
    CHECK (datapoints_to_alarm IS NULL OR datapoints_to_alarm BETWEEN 1 AND evaluation_periods),
  CONSTRAINT metric_alarm_comparison_operator_one_of_the_seven_operators
    CHECK (comparison_operator IN ('GreaterThanOrEqualToThreshold', 'GreaterThanThreshold',
                                   'LessThanThreshold', 'LessThanOrEqualToThreshold',
                                   'LessThanLowerOrGreaterThanUpperThreshold',
                                   'LessThanLowerThreshold', 'GreaterThanUpperThreshold')),
  CONSTRAINT metric_alarm_threshold_or_threshold_metric_id_for_a_band
    CHECK (CASE WHEN comparison_operator IN ('LessThanLowerOrGreaterThanUpperThreshold',
                                             'LessThanLowerThreshold', 'GreaterThanUpperThreshold')
                THEN threshold IS NULL AND threshold_metric_id IS NOT NULL AND metrics IS NOT NULL
                ELSE threshold IS NOT NULL AND threshold_metric_id IS NULL END),
  CONSTRAINT metric_alarm_threshold_a_finite_number
    CHECK (threshold IS NULL OR threshold NOT IN ('Infinity', '-Infinity', 'NaN')),
  CONSTRAINT metric_alarm_threshold_metric_id_1_to_255_characters
    CHECK (threshold_metric_id IS NULL OR length(threshold_metric_id) BETWEEN 1 AND 255),
  CONSTRAINT metric_alarm_treat_missing_data_one_of_the_four_values
    CHECK (treat_missing_data IS NULL OR
           treat_missing_data IN ('breaching', 'notBreaching', 'ignore', 'missing')),
  CONSTRAINT metric_alarm_unit_one_of_the_standard_units
    CHECK (unit IS NULL OR unit IN ('Seconds', 'Microseconds', 'Milliseconds', 'Bytes',
      'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits',
      'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
      'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second',
      'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second',
      'Count/Second', 'None')),
  CONSTRAINT metric_alarm_metrics_1_to_20_queries_with_unique_ids
    CHECK (metrics IS NULL OR metric_alarm_metrics_valid(metrics)),
  -- The alarm watches the one query that returns data; an anomaly band
  -- alarm, the metric and its band (ThresholdMetricId).
  CONSTRAINT metric_alarm_metrics_one_returning_data_two_with_a_band
    CHECK (metrics IS NULL OR metric_alarm_metrics_returning(metrics) =
           CASE WHEN threshold_metric_id IS NULL THEN 1 ELSE 2 END),
  CONSTRAINT metric_alarm_threshold_metric_id_names_a_query
    CHECK (threshold_metric_id IS NULL OR
           metrics @> jsonb_build_array(jsonb_build_object('Id', threshold_metric_id))),
  CONSTRAINT metric_alarm_tags_up_to_50_strings_no_aws_or_iasql_keys CHECK (iasql_tags_valid(tags))
);

CREATE TRIGGER metric_alarm_tags_max_49_plus_iasql_owner
  BEFORE INSERT OR UPDATE OF tags ON metric_alarm
  FOR EACH ROW EXECUTE FUNCTION iasql_tags_limit(49);
