-- CreateTable
CREATE TABLE "ssd_person" (
    "pers_person_id" TEXT NOT NULL,
    "pers_forename" TEXT,
    "pers_surname" TEXT,
    "pers_sex" TEXT,
    "pers_gender" TEXT,
    "pers_ethnicity" TEXT,
    "pers_dob" DATE,
    "pers_common_child_id" TEXT,
    "pers_legacy_id" TEXT,
    "pers_upn_unknown" TEXT,
    "pers_send_flag" TEXT,
    "pers_expected_dob" DATE,
    "pers_death_date" DATE,
    "pers_is_mother" TEXT,
    "pers_nationality" TEXT,

    CONSTRAINT "ssd_person_pkey" PRIMARY KEY ("pers_person_id")
);

-- CreateTable
CREATE TABLE "ssd_linked_identifiers" (
    "link_table_id" TEXT NOT NULL,
    "link_person_id" TEXT NOT NULL,
    "link_identifier_type" TEXT,
    "link_identifier_value" TEXT,
    "link_valid_from_date" DATE,
    "link_valid_to_date" DATE,

    CONSTRAINT "ssd_linked_identifiers_pkey" PRIMARY KEY ("link_table_id")
);

-- CreateTable
CREATE TABLE "ssd_address" (
    "addr_table_id" TEXT NOT NULL,
    "addr_address_json" TEXT,
    "addr_person_id" TEXT NOT NULL,
    "addr_address_type" TEXT,
    "addr_address_start_date" DATE,
    "addr_address_end_date" DATE,
    "addr_address_postcode" TEXT,

    CONSTRAINT "ssd_address_pkey" PRIMARY KEY ("addr_table_id")
);

-- CreateTable
CREATE TABLE "ssd_contacts" (
    "cont_contact_id" TEXT NOT NULL,
    "cont_person_id" TEXT NOT NULL,
    "cont_contact_date" DATE,
    "cont_contact_source_code" TEXT,
    "cont_contact_source_desc" TEXT,
    "cont_contact_outcome_json" TEXT,

    CONSTRAINT "ssd_contacts_pkey" PRIMARY KEY ("cont_contact_id")
);

-- CreateTable
CREATE TABLE "ssd_cin_episodes" (
    "cine_referral_id" TEXT NOT NULL,
    "cine_person_id" TEXT NOT NULL,
    "cine_referral_date" DATE,
    "cine_cin_primary_need_code" TEXT,
    "cine_referral_source_code" TEXT,
    "cine_referral_source_desc" TEXT,
    "cine_referral_outcome_json" TEXT,
    "cine_referral_nfa" TEXT,
    "cine_close_reason" TEXT,
    "cine_close_date" DATE,
    "cine_referral_team" TEXT,
    "cine_referral_worker_id" TEXT,

    CONSTRAINT "ssd_cin_episodes_pkey" PRIMARY KEY ("cine_referral_id")
);

-- CreateTable
CREATE TABLE "ssd_cin_assessments" (
    "cina_assessment_id" TEXT NOT NULL,
    "cina_person_id" TEXT NOT NULL,
    "cina_referral_id" TEXT,
    "cina_assessment_start_date" DATE,
    "cina_assessment_child_seen" TEXT,
    "cina_assessment_auth_date" DATE,
    "cina_assessment_outcome_json" TEXT,
    "cina_assessment_outcome_nfa" TEXT,
    "cina_assessment_team" TEXT,
    "cina_assessment_worker_id" TEXT,

    CONSTRAINT "ssd_cin_assessments_pkey" PRIMARY KEY ("cina_assessment_id")
);

-- CreateTable
CREATE TABLE "ssd_s47_enquiry" (
    "s47e_s47_enquiry_id" TEXT NOT NULL,
    "s47e_referral_id" TEXT,
    "s47e_person_id" TEXT NOT NULL,
    "s47e_s47_start_date" DATE,
    "s47e_s47_end_date" DATE,
    "s47e_s47_nfa" TEXT,
    "s47e_s47_outcome_json" TEXT,
    "s47e_s47_completed_by_worker_id" TEXT,
    "s47e_s47_completed_by_team" TEXT,

    CONSTRAINT "ssd_s47_enquiry_pkey" PRIMARY KEY ("s47e_s47_enquiry_id")
);

-- CreateTable
CREATE TABLE "ssd_cin_plans" (
    "cinp_cin_plan_id" TEXT NOT NULL,
    "cinp_referral_id" TEXT,
    "cinp_person_id" TEXT NOT NULL,
    "cinp_cin_plan_start_date" DATE,
    "cinp_cin_plan_end_date" DATE,
    "cinp_cin_plan_team" TEXT,
    "cinp_cin_plan_worker_id" TEXT,

    CONSTRAINT "ssd_cin_plans_pkey" PRIMARY KEY ("cinp_cin_plan_id")
);

-- CreateTable
CREATE TABLE "ssd_cp_plans" (
    "cppl_cp_plan_id" TEXT NOT NULL,
    "cppl_referral_id" TEXT,
    "cppl_icpc_id" TEXT,
    "cppl_person_id" TEXT NOT NULL,
    "cppl_cp_plan_start_date" DATE,
    "cppl_cp_plan_end_date" DATE,
    "cppl_cp_plan_initial_category" TEXT,
    "cppl_cp_plan_ola" TEXT,
    "cppl_cp_plan_latest_category" TEXT,

    CONSTRAINT "ssd_cp_plans_pkey" PRIMARY KEY ("cppl_cp_plan_id")
);

-- CreateTable
CREATE TABLE "ssd_cla_episodes" (
    "clae_cla_episode_id" TEXT NOT NULL,
    "clae_person_id" TEXT NOT NULL,
    "clae_cla_episode_start_date" DATE,
    "clae_cla_episode_start_reason" TEXT,
    "clae_cla_primary_need_code" TEXT,
    "clae_cla_episode_ceased_date" DATE,
    "clae_cla_episode_ceased_reason" TEXT,
    "clae_cla_id" TEXT,
    "clae_referral_id" TEXT,
    "clae_cla_placement_id" TEXT,
    "clae_entered_care_date" DATE,
    "clae_cla_last_iro_contact_date" DATE,

    CONSTRAINT "ssd_cla_episodes_pkey" PRIMARY KEY ("clae_cla_episode_id")
);

-- CreateTable
CREATE TABLE "ssd_cla_placement" (
    "clap_cla_placement_id" TEXT NOT NULL,
    "clap_cla_placement_start_date" DATE,
    "clap_cla_placement_type" TEXT,
    "clap_cla_placement_urn" TEXT,
    "clap_cla_placement_distance" DOUBLE PRECISION,
    "clap_cla_id" TEXT,
    "clap_cla_placement_provider" TEXT,
    "clap_cla_placement_postcode" TEXT,
    "clap_cla_placement_end_date" DATE,
    "clap_cla_placement_change_reason" TEXT,
    "clap_person_id" TEXT NOT NULL,

    CONSTRAINT "ssd_cla_placement_pkey" PRIMARY KEY ("clap_cla_placement_id")
);

-- CreateTable
CREATE TABLE "ssd_care_leavers" (
    "clea_table_id" TEXT NOT NULL,
    "clea_person_id" TEXT NOT NULL,
    "clea_care_leaver_eligibility" TEXT,
    "clea_care_leaver_in_touch" TEXT,
    "clea_care_leaver_latest_contact" DATE,
    "clea_care_leaver_accommodation" TEXT,
    "clea_care_leaver_accom_suitable" TEXT,
    "clea_care_leaver_activity" TEXT,
    "clea_pathway_plan_review_date" DATE,
    "clea_care_leaver_personal_advisor" TEXT,
    "clea_care_leaver_allocated_team" TEXT,
    "clea_care_leaver_worker_id" TEXT,

    CONSTRAINT "ssd_care_leavers_pkey" PRIMARY KEY ("clea_table_id")
);

-- CreateTable
CREATE TABLE "ssd_send" (
    "send_table_id" TEXT NOT NULL,
    "send_upn" TEXT,
    "send_uln" TEXT,
    "send_upn_unknown" TEXT,
    "send_person_id" TEXT NOT NULL,

    CONSTRAINT "ssd_send_pkey" PRIMARY KEY ("send_table_id")
);

-- CreateTable
CREATE TABLE "ssd_ehcp_requests" (
    "ehcr_ehcp_request_id" TEXT NOT NULL,
    "ehcr_send_table_id" TEXT NOT NULL,
    "ehcr_ehcp_req_date" DATE,
    "ehcr_ehcp_req_outcome_date" DATE,
    "ehcr_ehcp_req_outcome" TEXT,

    CONSTRAINT "ssd_ehcp_requests_pkey" PRIMARY KEY ("ehcr_ehcp_request_id")
);

-- CreateTable
CREATE TABLE "ssd_ehcp_active_plans" (
    "ehcp_active_ehcp_id" TEXT NOT NULL,
    "ehcp_ehcp_request_id" TEXT NOT NULL,
    "ehcp_active_ehcp_last_review_date" DATE,

    CONSTRAINT "ssd_ehcp_active_plans_pkey" PRIMARY KEY ("ehcp_active_ehcp_id")
);

-- CreateTable
CREATE TABLE "ssd_sen_need" (
    "senn_table_id" TEXT NOT NULL,
    "senn_active_ehcp_id" TEXT NOT NULL,
    "senn_active_ehcp_need_type" TEXT,
    "senn_active_ehcp_need_rank" TEXT,

    CONSTRAINT "ssd_sen_need_pkey" PRIMARY KEY ("senn_table_id")
);

-- CreateTable
CREATE TABLE "ssd_involvements" (
    "invo_involvements_id" TEXT NOT NULL,
    "invo_professional_id" TEXT NOT NULL,
    "invo_professional_role_id" TEXT,
    "invo_professional_team" TEXT,
    "invo_involvement_start_date" DATE,
    "invo_involvement_end_date" DATE,
    "invo_worker_change_reason" TEXT,
    "invo_person_id" TEXT NOT NULL,
    "invo_referral_id" TEXT,

    CONSTRAINT "ssd_involvements_pkey" PRIMARY KEY ("invo_involvements_id")
);

-- CreateTable
CREATE TABLE "ssd_professionals" (
    "prof_professional_id" TEXT NOT NULL,
    "prof_staff_id" TEXT,
    "prof_professional_name" TEXT,
    "prof_social_worker_registration_no" TEXT,
    "prof_professional_job_title" TEXT,
    "prof_professional_caseload" INTEGER,
    "prof_professional_department" TEXT,
    "prof_full_time_equivalency" DOUBLE PRECISION,
    "prof_agency_worker_flag" TEXT,

    CONSTRAINT "ssd_professionals_pkey" PRIMARY KEY ("prof_professional_id")
);

-- CreateTable
CREATE TABLE "edu_pupil" (
    "pupil_id" TEXT NOT NULL,
    "upn" TEXT,
    "forename" TEXT,
    "surname" TEXT,
    "sex" TEXT,
    "dob" DATE,
    "postcode" TEXT,
    "nhs_number" TEXT,
    "pers_person_id" TEXT,

    CONSTRAINT "edu_pupil_pkey" PRIMARY KEY ("pupil_id")
);

-- CreateTable
CREATE TABLE "edu_enrolment" (
    "enrolment_id" TEXT NOT NULL,
    "pupil_id" TEXT NOT NULL,
    "urn" TEXT NOT NULL,
    "school_name" TEXT NOT NULL,
    "phase" TEXT NOT NULL,
    "start_date" DATE NOT NULL,
    "end_date" DATE,

    CONSTRAINT "edu_enrolment_pkey" PRIMARY KEY ("enrolment_id")
);

-- CreateTable
CREATE TABLE "edu_attendance" (
    "attendance_id" TEXT NOT NULL,
    "pupil_id" TEXT NOT NULL,
    "urn" TEXT NOT NULL,
    "term_start" DATE NOT NULL,
    "term_end" DATE NOT NULL,
    "sessions_possible" INTEGER NOT NULL,
    "sessions_attended" INTEGER NOT NULL,
    "authorised_absences" INTEGER NOT NULL,
    "unauthorised_absences" INTEGER NOT NULL,

    CONSTRAINT "edu_attendance_pkey" PRIMARY KEY ("attendance_id")
);

-- CreateTable
CREATE TABLE "edu_exclusion" (
    "exclusion_id" TEXT NOT NULL,
    "pupil_id" TEXT NOT NULL,
    "urn" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "start_date" DATE NOT NULL,
    "sessions" INTEGER,
    "reason_code" TEXT,

    CONSTRAINT "edu_exclusion_pkey" PRIMARY KEY ("exclusion_id")
);

-- CreateTable
CREATE TABLE "la_match_result" (
    "id" BIGSERIAL NOT NULL,
    "subject_table" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "nhs_number" TEXT,
    "status" TEXT NOT NULL,
    "score" DOUBLE PRECISION,
    "strategy" TEXT,
    "matched_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "review_state" TEXT NOT NULL DEFAULT 'NONE',
    "reviewed_by" TEXT,
    "reviewed_at" TIMESTAMPTZ(3),

    CONSTRAINT "la_match_result_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "la_user" (
    "username" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "roles" TEXT[],
    "team" TEXT,
    "prof_professional_id" TEXT,

    CONSTRAINT "la_user_pkey" PRIMARY KEY ("username")
);

-- CreateTable
CREATE TABLE "la_audit_entry" (
    "seq" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "roles" TEXT[],
    "purpose" TEXT,
    "break_glass_reason" TEXT,
    "nhs_number" TEXT,
    "sources" JSONB,
    "withheld" JSONB,
    "outcome" TEXT NOT NULL,
    "trace_id" TEXT,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "la_audit_entry_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "ssd_person_pers_common_child_id_idx" ON "ssd_person"("pers_common_child_id");

-- CreateIndex
CREATE INDEX "ssd_person_pers_surname_pers_dob_idx" ON "ssd_person"("pers_surname", "pers_dob");

-- CreateIndex
CREATE INDEX "ssd_linked_identifiers_link_person_id_idx" ON "ssd_linked_identifiers"("link_person_id");

-- CreateIndex
CREATE INDEX "ssd_linked_identifiers_link_identifier_type_link_identifier_idx" ON "ssd_linked_identifiers"("link_identifier_type", "link_identifier_value");

-- CreateIndex
CREATE INDEX "ssd_address_addr_person_id_idx" ON "ssd_address"("addr_person_id");

-- CreateIndex
CREATE INDEX "ssd_address_addr_address_postcode_idx" ON "ssd_address"("addr_address_postcode");

-- CreateIndex
CREATE INDEX "ssd_contacts_cont_person_id_idx" ON "ssd_contacts"("cont_person_id");

-- CreateIndex
CREATE INDEX "ssd_cin_episodes_cine_person_id_idx" ON "ssd_cin_episodes"("cine_person_id");

-- CreateIndex
CREATE INDEX "ssd_cin_assessments_cina_person_id_idx" ON "ssd_cin_assessments"("cina_person_id");

-- CreateIndex
CREATE INDEX "ssd_s47_enquiry_s47e_person_id_idx" ON "ssd_s47_enquiry"("s47e_person_id");

-- CreateIndex
CREATE INDEX "ssd_cin_plans_cinp_person_id_idx" ON "ssd_cin_plans"("cinp_person_id");

-- CreateIndex
CREATE INDEX "ssd_cp_plans_cppl_person_id_idx" ON "ssd_cp_plans"("cppl_person_id");

-- CreateIndex
CREATE INDEX "ssd_cla_episodes_clae_person_id_idx" ON "ssd_cla_episodes"("clae_person_id");

-- CreateIndex
CREATE INDEX "ssd_cla_placement_clap_person_id_idx" ON "ssd_cla_placement"("clap_person_id");

-- CreateIndex
CREATE INDEX "ssd_care_leavers_clea_person_id_idx" ON "ssd_care_leavers"("clea_person_id");

-- CreateIndex
CREATE INDEX "ssd_send_send_person_id_idx" ON "ssd_send"("send_person_id");

-- CreateIndex
CREATE INDEX "ssd_ehcp_requests_ehcr_send_table_id_idx" ON "ssd_ehcp_requests"("ehcr_send_table_id");

-- CreateIndex
CREATE INDEX "ssd_ehcp_active_plans_ehcp_ehcp_request_id_idx" ON "ssd_ehcp_active_plans"("ehcp_ehcp_request_id");

-- CreateIndex
CREATE INDEX "ssd_sen_need_senn_active_ehcp_id_idx" ON "ssd_sen_need"("senn_active_ehcp_id");

-- CreateIndex
CREATE INDEX "ssd_involvements_invo_person_id_idx" ON "ssd_involvements"("invo_person_id");

-- CreateIndex
CREATE INDEX "ssd_involvements_invo_professional_id_idx" ON "ssd_involvements"("invo_professional_id");

-- CreateIndex
CREATE INDEX "edu_pupil_nhs_number_idx" ON "edu_pupil"("nhs_number");

-- CreateIndex
CREATE INDEX "edu_pupil_surname_dob_idx" ON "edu_pupil"("surname", "dob");

-- CreateIndex
CREATE INDEX "edu_enrolment_pupil_id_idx" ON "edu_enrolment"("pupil_id");

-- CreateIndex
CREATE INDEX "edu_attendance_pupil_id_term_start_idx" ON "edu_attendance"("pupil_id", "term_start");

-- CreateIndex
CREATE INDEX "edu_exclusion_pupil_id_idx" ON "edu_exclusion"("pupil_id");

-- CreateIndex
CREATE INDEX "la_match_result_status_review_state_idx" ON "la_match_result"("status", "review_state");

-- CreateIndex
CREATE UNIQUE INDEX "la_match_result_subject_table_subject_id_key" ON "la_match_result"("subject_table", "subject_id");

-- CreateIndex
CREATE INDEX "la_audit_entry_nhs_number_idx" ON "la_audit_entry"("nhs_number");

-- AddForeignKey
ALTER TABLE "ssd_linked_identifiers" ADD CONSTRAINT "ssd_linked_identifiers_link_person_id_fkey" FOREIGN KEY ("link_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_address" ADD CONSTRAINT "ssd_address_addr_person_id_fkey" FOREIGN KEY ("addr_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_contacts" ADD CONSTRAINT "ssd_contacts_cont_person_id_fkey" FOREIGN KEY ("cont_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cin_episodes" ADD CONSTRAINT "ssd_cin_episodes_cine_person_id_fkey" FOREIGN KEY ("cine_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cin_assessments" ADD CONSTRAINT "ssd_cin_assessments_cina_person_id_fkey" FOREIGN KEY ("cina_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_s47_enquiry" ADD CONSTRAINT "ssd_s47_enquiry_s47e_person_id_fkey" FOREIGN KEY ("s47e_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cin_plans" ADD CONSTRAINT "ssd_cin_plans_cinp_person_id_fkey" FOREIGN KEY ("cinp_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cp_plans" ADD CONSTRAINT "ssd_cp_plans_cppl_person_id_fkey" FOREIGN KEY ("cppl_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cla_episodes" ADD CONSTRAINT "ssd_cla_episodes_clae_person_id_fkey" FOREIGN KEY ("clae_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_cla_placement" ADD CONSTRAINT "ssd_cla_placement_clap_person_id_fkey" FOREIGN KEY ("clap_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_care_leavers" ADD CONSTRAINT "ssd_care_leavers_clea_person_id_fkey" FOREIGN KEY ("clea_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_send" ADD CONSTRAINT "ssd_send_send_person_id_fkey" FOREIGN KEY ("send_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_ehcp_requests" ADD CONSTRAINT "ssd_ehcp_requests_ehcr_send_table_id_fkey" FOREIGN KEY ("ehcr_send_table_id") REFERENCES "ssd_send"("send_table_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_ehcp_active_plans" ADD CONSTRAINT "ssd_ehcp_active_plans_ehcp_ehcp_request_id_fkey" FOREIGN KEY ("ehcp_ehcp_request_id") REFERENCES "ssd_ehcp_requests"("ehcr_ehcp_request_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_sen_need" ADD CONSTRAINT "ssd_sen_need_senn_active_ehcp_id_fkey" FOREIGN KEY ("senn_active_ehcp_id") REFERENCES "ssd_ehcp_active_plans"("ehcp_active_ehcp_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_involvements" ADD CONSTRAINT "ssd_involvements_invo_person_id_fkey" FOREIGN KEY ("invo_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ssd_involvements" ADD CONSTRAINT "ssd_involvements_invo_professional_id_fkey" FOREIGN KEY ("invo_professional_id") REFERENCES "ssd_professionals"("prof_professional_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "edu_pupil" ADD CONSTRAINT "edu_pupil_pers_person_id_fkey" FOREIGN KEY ("pers_person_id") REFERENCES "ssd_person"("pers_person_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "edu_enrolment" ADD CONSTRAINT "edu_enrolment_pupil_id_fkey" FOREIGN KEY ("pupil_id") REFERENCES "edu_pupil"("pupil_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "edu_attendance" ADD CONSTRAINT "edu_attendance_pupil_id_fkey" FOREIGN KEY ("pupil_id") REFERENCES "edu_pupil"("pupil_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "edu_exclusion" ADD CONSTRAINT "edu_exclusion_pupil_id_fkey" FOREIGN KEY ("pupil_id") REFERENCES "edu_pupil"("pupil_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "la_user" ADD CONSTRAINT "la_user_prof_professional_id_fkey" FOREIGN KEY ("prof_professional_id") REFERENCES "ssd_professionals"("prof_professional_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The audit log is append-only: the database itself refuses to change or remove an entry.
CREATE FUNCTION "refuse_audit_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "la_audit_entry_no_update_or_delete" BEFORE UPDATE OR DELETE ON "la_audit_entry"
  FOR EACH ROW EXECUTE FUNCTION "refuse_audit_change"();

CREATE TRIGGER "la_audit_entry_no_truncate" BEFORE TRUNCATE ON "la_audit_entry"
  FOR EACH STATEMENT EXECUTE FUNCTION "refuse_audit_change"();
