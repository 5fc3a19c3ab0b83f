/** One survey: its header, the tabs of its pages, and the page of the chosen tab. */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { Link } from '../router.tsx';
import type { Survey } from '../types.ts';
import { ErrorMessage, Loading, PageTitle, useLoad } from '../ui.tsx';
import { SurveySettings } from './SurveySettings.tsx';
import { Respondents } from './Respondents.tsx';
import { RespondentDetail } from './RespondentDetail.tsx';
import { Webhooks } from './Webhooks.tsx';
import { DefinitionPage } from './Definition.tsx';
import { Records } from './Records.tsx';
import { Dashboard } from './Dashboard.tsx';

export interface SurveyTabProps {
  survey: Survey;
  setSurvey: (s: Survey) => void;
  item?: string;
}

const TABS: { id: string; label: string; render: (p: SurveyTabProps) => ReactNode }[] = [
  { id: 'dashboard', label: 'Dashboard', render: (p) => <Dashboard {...p} /> },
  { id: 'settings', label: 'Settings', render: (p) => <SurveySettings {...p} /> },
  { id: 'definition', label: 'Definition', render: (p) => <DefinitionPage {...p} /> },
  { id: 'respondents', label: 'Respondents', render: (p) => (p.item ? <RespondentDetail slug={p.survey.slug} username={p.item} /> : <Respondents {...p} />) },
  { id: 'records', label: 'Records', render: (p) => <Records {...p} /> },
  { id: 'webhooks', label: 'Webhooks', render: (p) => <Webhooks {...p} /> },
];

export function SurveyPage({ slug, tab, item }: { slug: string; tab: string; item?: string }) {
  const survey = useLoad(() => api<Survey>('GET', `/api/admin/surveys/${encodeURIComponent(slug)}`), [slug]);
  const current = TABS.find((t) => t.id === tab);
  const base = `/surveys/${encodeURIComponent(slug)}`;
  return (
    <>
      <p className="crumbs">
        <Link to="/surveys">Surveys</Link> /
      </p>
      <div className="page-head">
        <PageTitle>{survey.data?.name ?? slug}</PageTitle>
        {survey.data && <span className={`badge state-${survey.data.state}`}>{survey.data.state}</span>}
      </div>
      <nav aria-label="Survey" className="tabs">
        {TABS.map((t) => (
          <Link key={t.id} to={`${base}/${t.id}`} className={t.id === tab ? 'tab active' : 'tab'} aria-current={t.id === tab ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      <ErrorMessage error={survey.error} />
      {survey.loading && !survey.data && <Loading label="Loading the survey…" />}
      {survey.data && (current ? current.render({ survey: survey.data, setSurvey: survey.setData, item }) : <p>This survey has no “{tab}” page.</p>)}
    </>
  );
}
