/**
 * Writes a chaos run into a harness/report run folder, `reports/chaos/<timestamp>/`, then
 * points `reports/chaos/latest` at it: `journal.json` (one drill: its journal; several:
 * `{ journalVersion, drills: [...] }`), `junit.xml` and `report.html`.
 */
import {
  createRunFolder,
  publishLatest,
  writeReportFile,
  type RunFolderOptions,
} from '../../harness/report/run-folder.js';

import type { Journal } from '../journal.js';

import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';

/** Paths of the files written (inside the timestamped folder `latest` points at). */
export interface WrittenReports {
  dir: string;
  latest: string;
  journal: string;
  junit: string;
  html: string;
}

/** Writes the reports of one chaos run and publishes them as `latest`. */
export function writeReports(
  journals: readonly Journal[],
  options: RunFolderOptions = {},
): WrittenReports {
  const folder = createRunFolder('chaos', options);
  const journalBody = journals.length === 1 ? journals[0] : { journalVersion: 1, drills: journals };
  const written = {
    dir: folder.dir,
    latest: folder.latest,
    journal: writeReportFile(folder, 'journal.json', journalBody),
    junit: writeReportFile(folder, 'junit.xml', renderJunit(journals)),
    html: writeReportFile(folder, 'report.html', renderHtml(journals)),
  };
  publishLatest(folder);
  return written;
}
